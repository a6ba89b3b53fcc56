// Norn's own webhook, for plain bare repositories whose hooks/post-receive posts each updated ref.
//
//   POST /api/webhooks/generic
//   Content-Type: application/json
//   X-Norn-Event: push
//   X-Norn-Delivery: <unique id per delivery, e.g. a UUID; reused when the hook retries>
//   X-Norn-Signature-256: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the shared secret>
//
//   {
//     "ref": "refs/heads/main",                        // or refs/tags/<tag>
//     "before": "<40 or 64 hex>",                      // all zeros when the ref was created
//     "after": "<40 or 64 hex>",                       // the commit (peel tags: <new>^{commit}); zeros = deleted
//     "repository": {
//       "url": "ssh://git.example.com/srv/git/team/app.git",   // what apps' specs match on
//       "full_name": "team/app"                        // optional; default: last two path segments of url
//     },
//     "commits": [                                     // optional, oldest first
//       { "id": "<sha>", "message": "...", "added": [], "removed": [], "modified": [] }
//     ],
//     "pusher": "alice"                                // optional: who pushed
//   }
//
// Other X-Norn-Event values are answered as ignored, so older receivers tolerate newer hooks.
import { z } from 'zod';
import { WebhookRejectedError } from '../errors.js';
import { headerValue, readJsonBody } from './delivery-input.js';
import { defineForgeAdapter } from './define-forge-adapter.js';
import {
  commitsField,
  fullNameField,
  headCommitOf,
  ignored,
  isZeroSha,
  nameField,
  parsePayload,
  refField,
  shaField,
  urlField,
  type DeliveryMeta,
} from './payload-fields.js';
import { hmacSha256HexMatches, signatureMismatch, signatureMissing } from './signature.js';
import type { ForgeAdapter } from './forge-adapter.js';
import type { PushEvent } from './parsed-delivery.js';

const pushPayload = z.object({
  ref: refField,
  before: shaField,
  after: shaField,
  repository: z.object({ url: urlField.min(1), full_name: fullNameField.nullish() }),
  commits: commitsField,
  pusher: nameField.nullish(),
});

/** "team/app" from ssh://host/srv/git/team/app.git or git@host:team/app.git; undefined when it has no owner. */
export function fullNameFromUrl(url: string): string | undefined {
  const path = url
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') // scheme://user@host:port
    .replace(/^[^/:]+:/, '') // scp-like user@host:
    .replace(/(\.git)?\/*$/, '');
  const segments = path.split('/').filter(Boolean);
  return segments.length >= 2 ? segments.slice(-2).join('/') : undefined;
}

/** A generic push body as a PushEvent; throws WebhookRejectedError(400) naming a bad field. */
export function toGenericPushEvent(body: unknown, meta: DeliveryMeta): PushEvent {
  const push = parsePayload(pushPayload, body);
  const fullName = push.repository.full_name ?? fullNameFromUrl(push.repository.url);
  if (!fullName) {
    throw new WebhookRejectedError(400, 'invalid payload field repository.full_name: missing, and url has no owner/name');
  }
  return {
    kind: 'push',
    forge: meta.forge,
    deliveryId: meta.deliveryId,
    repository: { fullName, urls: [push.repository.url] },
    ref: push.ref,
    before: push.before,
    after: push.after,
    deleted: isZeroSha(push.after),
    headCommitMessage: headCommitOf(push.commits, push.after)?.message ?? '',
    author: push.pusher ?? '',
    commits: push.commits,
  };
}

const SIGNATURE_PREFIX = 'sha256=';

export function createGenericAdapter(): ForgeAdapter {
  return defineForgeAdapter({
    name: 'generic',
    event: { label: 'X-Norn-Event', names: ['x-norn-event'] },
    delivery: { label: 'X-Norn-Delivery', names: ['x-norn-delivery'] },

    verify(delivery, secret) {
      const given = headerValue(delivery, ['x-norn-signature-256']);
      if (!given) throw signatureMissing('X-Norn-Signature-256');
      const hex = given.startsWith(SIGNATURE_PREFIX) ? given.slice(SIGNATURE_PREFIX.length) : '';
      if (!hmacSha256HexMatches(secret, delivery.body, hex)) throw signatureMismatch('X-Norn-Signature-256');
    },

    convert(event, delivery, meta) {
      if (event === 'push') return toGenericPushEvent(readJsonBody(delivery), meta);
      return ignored(meta, event, `generic event "${event}" does not trigger deploys`);
    },
  });
}
