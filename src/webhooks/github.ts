// GitHub webhooks: X-GitHub-Event names the event, X-GitHub-Delivery is a GUID per delivery, and
// X-Hub-Signature-256 is "sha256=" + hex HMAC-SHA256 of the body bytes as sent (JSON or form-encoded).
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
import { readJsonBody, rejectEmptyBody } from './delivery-input.js';
import { defineForgeAdapter } from './define-forge-adapter.js';
import { toPullRequestEvent, toPushEvent } from './github-style-payload.js';
import { ignored } from './payload-fields.js';
import { hmacSha256HexMatches, signatureMismatch, signatureMissing } from './signature.js';
import type { ForgeAdapter } from './forge-adapter.js';

const SIGNATURE_PREFIX = 'sha256=';

export function createGithubAdapter(): ForgeAdapter {
  return defineForgeAdapter({
    name: 'github',
    event: { label: 'X-GitHub-Event', names: ['x-github-event'] },
    delivery: { label: 'X-GitHub-Delivery', names: ['x-github-delivery'] },

    verify(delivery, secret) {
      const signature = delivery.headers['x-hub-signature-256']?.trim();
      if (!signature) throw signatureMissing('X-Hub-Signature-256');
      rejectEmptyBody(delivery);
      // The HMAC of the bytes as received, not of a decoded string: no copy of the body, and exactly what GitHub signed.
      const hex = signature.startsWith(SIGNATURE_PREFIX) ? signature.slice(SIGNATURE_PREFIX.length) : '';
      if (!hmacSha256HexMatches(secret, delivery.body, hex)) throw signatureMismatch('X-Hub-Signature-256');
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
