// Gitea and Forgejo (and Gogs, Gitea's ancestor) send the same webhooks under their own header prefix:
// X-<Prefix>-Event, X-<Prefix>-Delivery and X-<Prefix>-Signature, the last being the plain hex HMAC-SHA256 of
// the body bytes. They also send X-GitHub-Event and X-Hub-Signature-256 for compatibility; detection
// prefers their own headers (see detect-forge.ts). One factory serves all three, so a fix reaches each.
// https://docs.gitea.com/usage/webhooks  https://forgejo.org/docs/latest/user/webhooks/
import { headerValue, readJsonBody } from './delivery-input.js';
import { defineForgeAdapter } from './define-forge-adapter.js';
import { toPullRequestEvent, toPushEvent } from './github-style-payload.js';
import { ignored } from './payload-fields.js';
import { hmacSha256HexMatches, signatureMismatch, signatureMissing } from './signature.js';
import type { ForgeAdapter } from './forge-adapter.js';

export interface GiteaAdapterConfig {
  readonly name: 'gitea' | 'forgejo';
  /** Header prefixes to read, most preferred first, e.g. ['gitea', 'gogs'] or ['forgejo']. */
  readonly headerPrefixes: readonly [string, ...string[]];
}

export const GITEA_CONFIG: GiteaAdapterConfig = { name: 'gitea', headerPrefixes: ['gitea', 'gogs'] };
export const FORGEJO_CONFIG: GiteaAdapterConfig = { name: 'forgejo', headerPrefixes: ['forgejo'] };

export function createGiteaAdapter(config: GiteaAdapterConfig): ForgeAdapter {
  const header = (suffix: string) => {
    const prefix = config.headerPrefixes[0];
    return {
      label: `X-${prefix.charAt(0).toUpperCase()}${prefix.slice(1)}-${suffix}`,
      names: config.headerPrefixes.map((p) => `x-${p}-${suffix.toLowerCase()}`),
    };
  };
  const signature = header('Signature');

  return defineForgeAdapter({
    name: config.name,
    event: header('Event'),
    delivery: header('Delivery'),

    verify(delivery, secret) {
      const given = headerValue(delivery, signature.names);
      if (!given) throw signatureMissing(signature.label);
      if (!hmacSha256HexMatches(secret, delivery.body, given)) throw signatureMismatch(signature.label);
    },

    convert(event, delivery, meta) {
      switch (event) {
        case 'push':
          return toPushEvent(readJsonBody(delivery), meta);
        case 'pull_request':
          return toPullRequestEvent(readJsonBody(delivery), meta);
        default:
          return ignored(meta, event, `${config.name} event "${event}" does not trigger deploys`);
      }
    },
  });
}
