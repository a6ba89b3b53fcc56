import { expect } from 'chai';
import { detectAdapter } from '../../../src/webhooks/detect-forge.js';
import { createForgeAdapters } from '../../../src/webhooks/forge-adapters.js';
import type { ForgeName } from '../../../src/webhooks/forge-adapter.js';
import { readFixture } from '../../support/fixtures-dir.js';
import { hmacHex, receive } from './webhook-table.js';

const adapters = createForgeAdapters();
const body = Buffer.from('{}');

// What each forge really sends: Forgejo adds X-Gitea-* and X-Gogs-*, Gitea adds X-Gogs-*, both add X-GitHub-Event.
const rows: [string, Record<string, string>, ForgeName | undefined][] = [
  ['GitHub', { 'x-github-event': 'push' }, 'github'],
  ['Gitea, which also sends X-GitHub-Event and X-Gogs-Event', { 'x-gitea-event': 'push', 'x-gogs-event': 'push', 'x-github-event': 'push' }, 'gitea'],
  ['Gogs', { 'x-gogs-event': 'push' }, 'gitea'],
  [
    'Forgejo, which also sends X-Gitea-*, X-Gogs-* and X-GitHub-Event',
    { 'x-forgejo-event': 'push', 'x-gitea-event': 'push', 'x-gogs-event': 'push', 'x-github-event': 'push' },
    'forgejo',
  ],
  ['GitLab', { 'x-gitlab-event': 'Push Hook' }, 'gitlab'],
  ['post-receive hook', { 'x-norn-event': 'push' }, 'generic'],
  ['post-receive hook that also set X-GitHub-Event', { 'x-norn-event': 'push', 'x-github-event': 'push' }, 'generic'],
  ['no forge headers', { 'content-type': 'application/json' }, undefined],
  ['blank event header', { 'x-gitea-event': '  ' }, undefined],
];

describe('detectAdapter', () => {
  for (const [name, headers, expected] of rows) {
    it(`${name} -> ${expected ?? 'none'}`, () => {
      expect(detectAdapter({ headers, body }, adapters)?.name).to.equal(expected);
    });
  }

  it('a real Gitea delivery is detected as gitea and verified with X-Gitea-Signature', async () => {
    const push = readFixture('gitea/woodpecker/HookPush.json');
    const delivery = {
      headers: {
        'x-github-event': 'push',
        'x-github-delivery': 'd-1',
        'x-gitea-event': 'push',
        'x-gitea-delivery': 'd-1',
        'x-gitea-signature': hmacHex(push),
      },
      body: push,
    };
    const adapter = detectAdapter(delivery, adapters);
    expect(adapter?.name).to.equal('gitea');
    expect(await receive(adapter!, delivery)).to.include({ kind: 'push', forge: 'gitea', deliveryId: 'd-1' });
  });
});
