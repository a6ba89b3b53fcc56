// GitHub webhooks: X-GitHub-Event names the event, X-GitHub-Delivery is a GUID per delivery, and
// X-Hub-Signature-256 is "sha256=" + hex HMAC-SHA256 of the body bytes as sent (JSON or form-encoded).
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
import { verify } from '@octokit/webhooks-methods';
import { readJsonBody, requireBody } from './delivery-input.js';
import { defineForgeAdapter } from './define-forge-adapter.js';
import { toPullRequestEvent, toPushEvent } from './github-style-payload.js';
import { ignored } from './payload-fields.js';
import { signatureMismatch, signatureMissing } from './signature.js';
import type { ForgeAdapter } from './forge-adapter.js';

export function createGithubAdapter(): ForgeAdapter {
  return defineForgeAdapter({
    name: 'github',
    event: { label: 'X-GitHub-Event', names: ['x-github-event'] },
    delivery: { label: 'X-GitHub-Delivery', names: ['x-github-delivery'] },

    async verify(delivery, secret) {
      const signature = delivery.headers['x-hub-signature-256']?.trim();
      if (!signature) throw signatureMissing('X-Hub-Signature-256');
      // octokit compares the "sha256=<hex>" strings in constant time. It takes a string: a body that is not
      // valid UTF-8 changes when decoded, so it fails closed.
      if (!(await verify(secret, requireBody(delivery), signature))) throw signatureMismatch('X-Hub-Signature-256');
    },

    convert(event, delivery, meta) {
      switch (event) {
        case 'ping':
          return { kind: 'ping', forge: meta.forge, deliveryId: meta.deliveryId };
        case 'push':
          return toPushEvent(readJsonBody(delivery), meta);
        case 'pull_request':
          return toPullRequestEvent(readJsonBody(delivery), meta);
        default:
          return ignored(meta, event, `github event "${event}" does not trigger deploys`);
      }
    },
  });
}
