// Hostile or broken payloads, through the GitHub adapter (the field rules are shared by every forge):
// each row mutates a real push and expects a 400 naming the field, or the value normalized.
import { expect } from 'chai';
import { createForgeAdapters } from '../../../src/webhooks/forge-adapters.js';
import type { ForgeName } from '../../../src/webhooks/forge-adapter.js';
import type { PushEvent } from '../../../src/webhooks/parsed-delivery.js';
import { readFixture } from '../../support/fixtures-dir.js';
import { expectOutcome, hmacHex, json, receive, SECRET, type Rejection } from './webhook-table.js';

type Payload = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const adapters = createForgeAdapters();
const original = readFixture('github/octokit-webhooks/push.branch-created.json').toString('utf8');
const sha256 = 'ab'.repeat(32);

function githubDelivery(body: Buffer, extra: Record<string, string> = {}) {
  const headers = {
    'x-github-event': 'push',
    'x-github-delivery': 'gh-1',
    'x-hub-signature-256': `sha256=${hmacHex(body)}`,
    ...extra,
  };
  return { headers, body };
}

const rejects = (status: number, reason: RegExp): Rejection => ({ status, reason });
/** Returned by a row's mutation to send this value as the whole body instead of the mutated payload. */
const replaceBody = (value: unknown) => ({ replaceBody: value });

const rows: [string, (p: Payload) => unknown, Rejection | ((event: PushEvent) => void)][] = [
  ['a pull request ref', (p) => (p.ref = 'refs/pull/1/head'), rejects(400, /field ref: must be refs\/heads/)],
  ['a bare branch name as ref', (p) => (p.ref = 'main'), rejects(400, /field ref:/)],
  ['a ref climbing with ..', (p) => (p.ref = 'refs/heads/a/../b'), rejects(400, /field ref: is not a valid git ref/)],
  ['a ref with a space', (p) => (p.ref = 'refs/heads/a b'), rejects(400, /field ref:/)],
  ['a 2000 character ref', (p) => (p.ref = `refs/heads/${'x'.repeat(2000)}`), rejects(400, /field ref:/)],
  ['after that is not a SHA', (p) => (p.after = 'abc'), rejects(400, /field after: must be a 40 or 64 character hex SHA/)],
  ['before missing', (p) => delete p.before, rejects(400, /field before:/)],
  ['no repository', (p) => delete p.repository, rejects(400, /field repository:/)],
  ['repository without full_name', (p) => delete p.repository.full_name, rejects(400, /field repository\.full_name:/)],
  ['full_name that is not owner/name', (p) => (p.repository.full_name = 'x'), rejects(400, /repository\.full_name: must look like owner\/name/)],
  [
    'repository without any URL',
    (p) => ['clone_url', 'ssh_url', 'html_url', 'git_url'].forEach((k) => delete p.repository[k]),
    rejects(400, /field repository: has no clone, ssh or web URL/),
  ],
  ['clone_url with whitespace', (p) => (p.repository.clone_url = 'https://x y'), rejects(400, /repository\.clone_url:/)],
  ['a 3000 character clone_url', (p) => (p.repository.clone_url = `https://x/${'a'.repeat(3000)}`), rejects(400, /repository\.clone_url:/)],
  ['a commit id that is not a SHA', (p) => (p.commits[0].id = 'nope'), rejects(400, /field commits\.0\.id:/)],
  ['3000 commits', (p) => (p.commits = Array(3000).fill(p.commits[0])), rejects(400, /field commits:/)],
  ['a 10k character pusher name', (p) => (p.pusher.name = 'x'.repeat(10_000)), rejects(400, /field pusher\.name:/)],
  ['a JSON array as body', () => replaceBody([]), rejects(400, /field \(body\):/)],
  ['JSON null as body', () => replaceBody(null), rejects(400, /field \(body\):/)],
  [
    'a 64 character SHA (SHA-256 repository)',
    (p) => Object.assign(p, { after: sha256, head_commit: null, commits: [] }),
    (event) => expect(event.after).to.equal(sha256),
  ],
  [
    'an upper-case SHA is lower-cased',
    (p) => Object.assign(p, { after: 'ABCDEF'.padEnd(40, '0'), head_commit: null, commits: [] }),
    (event) => expect(event.after).to.equal('abcdef'.padEnd(40, '0')),
  ],
  [
    'a 50k character commit message is cut to 10k',
    (p) => (p.head_commit.message = 'm'.repeat(50_000)),
    (event) => expect(event.headCommitMessage).to.have.length(10_000),
  ],
  [
    'null file lists (as Gitea sends) become empty lists',
    (p) => Object.assign(p.commits[0], { added: null, removed: null }),
    (event) => expect(event.commits[0]).to.deep.include({ added: [], removed: [] }),
  ],
];

describe('payload limits', () => {
  for (const [name, mutate, expected] of rows) {
    it(name, async () => {
      const payload = JSON.parse(original) as Payload;
      const result = mutate(payload);
      const body = json(result && typeof result === 'object' && 'replaceBody' in result ? result.replaceBody : payload);
      const outcome = await receive(adapters.github, githubDelivery(body));
      if (typeof expected === 'function') {
        if (outcome instanceof Error) throw outcome;
        expected(outcome as PushEvent);
      } else {
        expectOutcome(outcome, expected);
      }
    });
  }

  it('the same ref rule holds for every forge', async () => {
    const bad = { ref: 'refs/pull/1/head', before: '1'.repeat(40), after: '2'.repeat(40) };
    const signedHex = (body: Buffer) => hmacHex(body);
    const deliveries: [ForgeName, (body: Buffer) => Record<string, string>][] = [
      ['gitea', (b) => ({ 'x-gitea-event': 'push', 'x-gitea-delivery': 'd', 'x-gitea-signature': signedHex(b) })],
      ['gitlab', () => ({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'd', 'x-gitlab-token': SECRET })],
      ['generic', (b) => ({ 'x-norn-event': 'push', 'x-norn-delivery': 'd', 'x-norn-signature-256': `sha256=${signedHex(b)}` })],
    ];
    for (const [forge, headersFor] of deliveries) {
      const body = json(bad);
      expectOutcome(await receive(adapters[forge], { headers: headersFor(body), body }), rejects(400, /field ref:/));
    }
  });

  it('delivery ids that are too long or not printable ASCII are refused, naming the header', async () => {
    const body = Buffer.from(original);
    for (const id of ['x'.repeat(201), 'id-\u00e9', 'id\u0000']) {
      const delivery = githubDelivery(body, { 'x-github-delivery': id });
      expect(adapters.github.deliveryId(delivery)).to.equal(undefined);
      expectOutcome(await receive(adapters.github, delivery), rejects(400, /header X-GitHub-Delivery/));
    }
  });
});
