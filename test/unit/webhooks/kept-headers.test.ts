// What each forge's adapter keeps of a delivery's headers for the ledger (redelivery reads them back): its own
// event and delivery headers, the content type and the user agent. Signatures and tokens are never kept, nor
// another forge's headers that a delivery happens to carry.
import { expect } from 'chai';
import { createForgeAdapters } from '../../../src/webhooks/forge-adapters.js';
import type { ForgeName } from '../../../src/webhooks/forge-adapter.js';

const adapters = createForgeAdapters();
const COMMON = { 'content-type': 'application/json', 'user-agent': 'forge-hookshot/1.0' };

// [forge, headers sent, headers kept]
const table: [ForgeName, Record<string, string>, Record<string, string>][] = [
  [
    'github',
    { ...COMMON, 'x-github-event': 'push', 'x-github-delivery': 'g-1', 'x-hub-signature-256': 'sha256=abc', 'x-hub-signature': 'sha1=abc', 'x-github-hook-id': '9', host: 'norn.example' },
    { ...COMMON, 'x-github-event': 'push', 'x-github-delivery': 'g-1' },
  ],
  [
    'gitea',
    // Gitea also sends GitHub's and Gogs' headers for compatibility; it keeps its own and Gogs' (its fallbacks).
    { ...COMMON, 'x-gitea-event': 'push', 'x-gitea-delivery': 't-1', 'x-gitea-signature': 'abc', 'x-gogs-event': 'push', 'x-gogs-delivery': 't-1', 'x-gogs-signature': 'abc', 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=abc' },
    { ...COMMON, 'x-gitea-event': 'push', 'x-gitea-delivery': 't-1', 'x-gogs-event': 'push', 'x-gogs-delivery': 't-1' },
  ],
  [
    'forgejo',
    { ...COMMON, 'x-forgejo-event': 'push', 'x-forgejo-delivery': 'f-1', 'x-forgejo-signature': 'abc', 'x-gitea-event': 'push', 'x-gitea-signature': 'abc' },
    { ...COMMON, 'x-forgejo-event': 'push', 'x-forgejo-delivery': 'f-1' },
  ],
  [
    'gitlab',
    { ...COMMON, 'x-gitlab-event': 'Push Hook', 'idempotency-key': 'k-1', 'x-gitlab-event-uuid': 'e-1', 'x-gitlab-webhook-uuid': 'w-1', 'x-gitlab-token': 'the-secret', 'x-gitlab-instance': 'https://gitlab.example' },
    { ...COMMON, 'x-gitlab-event': 'Push Hook', 'idempotency-key': 'k-1', 'x-gitlab-event-uuid': 'e-1', 'x-gitlab-webhook-uuid': 'w-1' },
  ],
  [
    'generic',
    { ...COMMON, 'x-norn-event': 'push', 'x-norn-delivery': 'n-1', 'x-norn-signature-256': 'sha256=abc', authorization: 'Bearer t' },
    { ...COMMON, 'x-norn-event': 'push', 'x-norn-delivery': 'n-1' },
  ],
];

describe('headers kept with a delivery, per forge adapter', () => {
  for (const [forge, sent, kept] of table) {
    it(`${forge} keeps its event and delivery headers, the content type and user agent, and no signature or token`, () => {
      expect(adapters[forge].keptHeaders({ headers: sent, body: Buffer.alloc(0) })).to.deep.equal(kept);
    });
  }

  it('every forge has a row', () => {
    expect(table.map(([forge]) => forge).sort()).to.deep.equal(Object.keys(adapters).sort());
  });

  it('cuts a kept value to 500 characters and leaves out headers that were not sent', () => {
    const kept = adapters.github.keptHeaders({ headers: { 'x-github-event': 'push', 'user-agent': 'u'.repeat(2000) }, body: Buffer.alloc(0) });
    expect(kept).to.deep.equal({ 'x-github-event': 'push', 'user-agent': 'u'.repeat(500) });
  });
});
