import { expect } from 'chai';
import { createGenericAdapter, fullNameFromUrl } from '../../../src/webhooks/generic.js';
import type { PushEvent } from '../../../src/webhooks/parsed-delivery.js';
import { hmacHex, json, runTable, type Row } from './webhook-table.js';

const adapter = createGenericAdapter();
const ZERO = '0'.repeat(40);
const OLD = '1'.repeat(40);
const NEW = '2'.repeat(40);
const URL = 'ssh://git.example.com/srv/git/team/app.git';

function headers(event: string | undefined, body: Buffer, extra: Record<string, string | undefined> = {}) {
  return {
    'content-type': 'application/json',
    'x-norn-event': event,
    'x-norn-delivery': 'norn-1',
    'x-norn-signature-256': `sha256=${hmacHex(body)}`,
    ...extra,
  };
}

const commits = [
  { id: OLD, message: 'first', added: ['a'], removed: [], modified: [] },
  { id: NEW, message: 'second', added: [], removed: ['a'], modified: ['b'] },
];
const push = json({
  ref: 'refs/heads/main',
  before: ZERO,
  after: NEW,
  repository: { url: URL, full_name: 'team/app' },
  commits,
  pusher: 'alice',
});
const expectedPush: PushEvent = {
  kind: 'push',
  forge: 'generic',
  deliveryId: 'norn-1',
  repository: { fullName: 'team/app', urls: [URL] },
  ref: 'refs/heads/main',
  before: ZERO,
  after: NEW,
  deleted: false,
  headCommitMessage: 'second',
  author: 'alice',
  commits,
};
const minimal = json({ ref: 'refs/tags/v1', before: OLD, after: NEW, repository: { url: 'git@host:ops/site.git' } });
const deletion = json({ ref: 'refs/heads/old', before: OLD, after: ZERO, repository: { url: URL } });
const ownerless = json({ ref: 'refs/heads/main', before: OLD, after: NEW, repository: { url: 'site.git' } });

describe('generic adapter (X-Norn-* from hooks/post-receive)', () => {
  const rows: Row[] = [
    { name: 'push', headers: headers('push', push), body: push, expected: expectedPush },
    {
      name: 'minimal tag push: full_name from the url, no commits, no pusher',
      headers: headers('push', minimal),
      body: minimal,
      expected: {
        ...expectedPush,
        repository: { fullName: 'ops/site', urls: ['git@host:ops/site.git'] },
        ref: 'refs/tags/v1',
        before: OLD,
        headCommitMessage: '',
        author: '',
        commits: [],
      },
    },
    {
      name: 'branch deleted (after is zeros)',
      headers: headers('push', deletion),
      body: deletion,
      expected: {
        ...expectedPush,
        ref: 'refs/heads/old',
        before: OLD,
        after: ZERO,
        deleted: true,
        headCommitMessage: '',
        author: '',
        commits: [],
      },
    },
    {
      name: 'url without owner/name and no full_name',
      headers: headers('push', ownerless),
      body: ownerless,
      expected: { status: 400, reason: /repository\.full_name/ },
    },
    {
      name: 'another event is ignored',
      headers: headers('ping', Buffer.from('{}')),
      body: Buffer.from('{}'),
      expected: {
        kind: 'ignored',
        forge: 'generic',
        deliveryId: 'norn-1',
        event: 'ping',
        reason: 'generic event "ping" does not trigger deploys',
      },
    },
    {
      name: 'signature without the sha256= prefix',
      headers: headers('push', push, { 'x-norn-signature-256': hmacHex(push) }),
      body: push,
      expected: { status: 401, reason: /X-Norn-Signature-256/ },
    },
    {
      name: 'signed with another secret',
      headers: headers('push', push, { 'x-norn-signature-256': `sha256=${hmacHex(push, 'other')}` }),
      body: push,
      expected: { status: 401, reason: /X-Norn-Signature-256/ },
    },
    {
      name: 'unsigned',
      headers: headers('push', push, { 'x-norn-signature-256': undefined }),
      body: push,
      expected: { status: 401, reason: /missing header X-Norn-Signature-256/ },
    },
    {
      name: 'missing X-Norn-Delivery',
      headers: headers('push', push, { 'x-norn-delivery': undefined }),
      body: push,
      expected: { status: 400, reason: /missing header X-Norn-Delivery/ },
    },
    {
      name: 'missing X-Norn-Event',
      headers: headers(undefined, push),
      body: push,
      expected: { status: 400, reason: /missing header X-Norn-Event/ },
    },
  ];
  runTable(adapter, rows);

  const urls: [string, string | undefined][] = [
    ['ssh://git@git.example.com:2222/srv/git/team/app.git', 'team/app'],
    ['git@git.example.com:team/app.git', 'team/app'],
    ['https://git.example.com/team/app/', 'team/app'],
    ['file:///srv/git/app.git', 'git/app'],
    ['app.git', undefined],
    ['git@host:app.git', undefined],
  ];
  for (const [url, fullName] of urls) {
    it(`full name of ${url} is ${fullName ?? 'unknown'}`, () => {
      expect(fullNameFromUrl(url)).to.equal(fullName);
    });
  }
});
