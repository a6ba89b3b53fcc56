import { createRequire } from 'node:module';
import { expect } from 'chai';
import { createGithubAdapter } from '../../../src/webhooks/github.js';
import type { PushEvent, RepositoryRef } from '../../../src/webhooks/parsed-delivery.js';
import { readFixture } from '../../support/fixtures-dir.js';
import { hmacHex, json, receive, runTable, SECRET, type Row } from './webhook-table.js';

const adapter = createGithubAdapter();
const ZERO = '0'.repeat(40);
const HEAD = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const fixture = (name: string) => readFixture(`github/octokit-webhooks/${name}`);

function headers(event: string | undefined, body: Buffer, extra: Record<string, string | undefined> = {}) {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': 'gh-1',
    'x-hub-signature-256': `sha256=${hmacHex(body)}`,
    ...extra,
  };
}

const helloWorld: RepositoryRef = {
  fullName: 'Codertocat/Hello-World',
  urls: [
    'https://github.com/Codertocat/Hello-World.git',
    'git@github.com:Codertocat/Hello-World.git',
    'https://github.com/Codertocat/Hello-World',
    'git://github.com/Codertocat/Hello-World.git',
  ],
  webUrl: 'https://github.com',
};

const branchCreated: PushEvent = {
  kind: 'push',
  forge: 'github',
  deliveryId: 'gh-1',
  repository: helloWorld,
  ref: 'refs/heads/master',
  before: ZERO,
  after: HEAD,
  deleted: false,
  headCommitMessage: 'Initial commit',
  author: 'Codertocat',
  commits: [{ id: HEAD, message: 'Initial commit', added: ['README.md'], removed: [], modified: [] }],
};

const pushJson = fixture('push.branch-created.json');
const formBody = Buffer.from(`payload=${encodeURIComponent(pushJson.toString('utf8'))}`);
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const tagCreated = JSON.parse(fixture('push.tag-created.json').toString('utf8')) as Record<string, unknown>;
// An annotated tag: `after` is the tag object, head_commit the commit it points at.
const annotatedTag = json({ ...tagCreated, after: 'a'.repeat(40) });
const tampered = Buffer.from(pushJson.toString('utf8').replace('Initial commit', 'Initial commit!'));

describe('github adapter', () => {
  const rows: Row[] = [
    { name: 'push creating a branch', headers: headers('push', pushJson), body: pushJson, expected: branchCreated },
    {
      name: 'push creating a tag',
      headers: headers('push', fixture('push.tag-created.json')),
      body: fixture('push.tag-created.json'),
      expected: {
        ...branchCreated,
        ref: 'refs/tags/simple-tag',
        headCommitMessage: 'Adding a .gitignore file',
        commits: [],
      },
    },
    {
      name: 'push of an annotated tag pins the tagged commit, not the tag object',
      headers: headers('push', annotatedTag),
      body: annotatedTag,
      expected: { ...branchCreated, ref: 'refs/tags/simple-tag', headCommitMessage: 'Adding a .gitignore file', commits: [] },
    },
    {
      name: 'push deleting a tag',
      headers: headers('push', fixture('push.tag-deleted.json')),
      body: fixture('push.tag-deleted.json'),
      expected: {
        ...branchCreated,
        ref: 'refs/tags/simple-tag',
        before: HEAD,
        after: ZERO,
        deleted: true,
        headCommitMessage: '',
        commits: [],
      },
    },
    {
      name: 'ping',
      headers: headers('ping', fixture('ping.json')),
      body: fixture('ping.json'),
      expected: { kind: 'ping', forge: 'github', deliveryId: 'gh-1' },
    },
    {
      name: 'pull_request opened',
      headers: headers('pull_request', fixture('pull_request.opened.json')),
      body: fixture('pull_request.opened.json'),
      expected: {
        kind: 'pull_request',
        forge: 'github',
        deliveryId: 'gh-1',
        repository: helloWorld,
        action: 'opened',
        number: 2,
        baseBranch: 'master',
        headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        headRef: 'changes',
      },
    },
    {
      name: 'an event that deploys nothing is ignored, naming the event',
      headers: headers('issues', json({ action: 'opened' })),
      body: json({ action: 'opened' }),
      expected: {
        kind: 'ignored',
        forge: 'github',
        deliveryId: 'gh-1',
        event: 'issues',
        reason: 'github event "issues" does not trigger deploys',
      },
    },
    {
      name: 'form-encoded push, signed over the form bytes',
      headers: headers('push', formBody, form),
      body: formBody,
      expected: branchCreated,
    },
    {
      name: 'form-encoded push signed over the JSON inside instead of the bytes sent',
      headers: headers('push', pushJson, form),
      body: formBody,
      expected: { status: 401, reason: /X-Hub-Signature-256/ },
    },
    {
      name: 'form-encoded body without a payload field',
      headers: headers('push', Buffer.from('data=1'), form),
      body: Buffer.from('data=1'),
      expected: { status: 400, reason: /payload/ },
    },
    {
      name: 'signed with another secret',
      headers: headers('push', pushJson, { 'x-hub-signature-256': `sha256=${hmacHex(pushJson, 'other')}` }),
      body: pushJson,
      expected: { status: 401, reason: /X-Hub-Signature-256/ },
    },
    {
      name: 'body changed after signing',
      headers: headers('push', pushJson),
      body: tampered,
      expected: { status: 401, reason: /X-Hub-Signature-256/ },
    },
    {
      name: 'signature without the sha256= prefix',
      headers: headers('push', pushJson, { 'x-hub-signature-256': hmacHex(pushJson) }),
      body: pushJson,
      expected: { status: 401, reason: /X-Hub-Signature-256/ },
    },
    {
      name: 'only the legacy SHA-1 X-Hub-Signature',
      headers: headers('push', pushJson, { 'x-hub-signature-256': undefined, 'x-hub-signature': 'sha1=00' }),
      body: pushJson,
      expected: { status: 401, reason: /missing header X-Hub-Signature-256/ },
    },
    {
      name: 'no webhook secret configured',
      headers: headers('push', pushJson),
      body: pushJson,
      secret: '',
      expected: { status: 401, reason: /no webhook secret/ },
    },
    {
      name: 'missing X-GitHub-Event',
      headers: headers(undefined, pushJson),
      body: pushJson,
      expected: { status: 400, reason: /missing header X-GitHub-Event/ },
    },
    {
      name: 'missing X-GitHub-Delivery',
      headers: headers('push', pushJson, { 'x-github-delivery': undefined }),
      body: pushJson,
      expected: { status: 400, reason: /missing header X-GitHub-Delivery/ },
    },
    {
      name: 'malformed JSON, correctly signed',
      headers: headers('push', Buffer.from('{"ref":')),
      body: Buffer.from('{"ref":'),
      expected: { status: 400, reason: /not valid JSON/ },
    },
    {
      name: 'empty body',
      headers: { ...headers('push', Buffer.alloc(0)), 'x-hub-signature-256': 'sha256=00' },
      body: Buffer.alloc(0),
      expected: { status: 400, reason: /empty/ },
    },
  ];
  runTable(adapter, rows);

  it('reads its headers, and sees GitHub only in X-GitHub-Event', () => {
    const delivery = { headers: headers('push', pushJson), body: pushJson };
    expect(adapter.detects(delivery)).to.equal(true);
    expect(adapter.eventName(delivery)).to.equal('push');
    expect(adapter.deliveryId(delivery)).to.equal('gh-1');
    expect(adapter.detects({ headers: { 'x-gitlab-event': 'Push Hook' }, body: pushJson })).to.equal(false);
  });
});

// Every payload GitHub documents, through the adapter: pushes and pull requests convert, ping answers,
// and every other event is ignored by name rather than rejected.
interface Definition {
  readonly name: string;
  readonly examples: readonly Record<string, unknown>[];
}
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];

describe('github adapter over @octokit/webhooks-examples', () => {
  for (const { name, examples } of definitions) {
    it(`${name} (${examples.length} examples)`, async () => {
      for (const example of examples) {
        const body = json(example);
        const outcome = await receive(adapter, { headers: headers(name, body), body }, SECRET);
        if (outcome instanceof Error) throw outcome;
        const parsed = outcome as { kind: string; [key: string]: unknown };
        if (name === 'push') {
          const head = example.head_commit as { id: string } | null;
          expect(parsed).to.include({ kind: 'push', ref: example.ref, deleted: example.after === ZERO });
          expect(parsed.after).to.equal(example.after === ZERO ? ZERO : (head?.id ?? example.after));
        } else if (name === 'pull_request') {
          const pr = example.pull_request as { head: { sha: string }; base: { ref: string } };
          expect(parsed).to.include({ kind: 'pull_request', action: example.action, headSha: pr.head.sha });
          expect(parsed.baseBranch).to.equal(pr.base.ref);
        } else if (name === 'ping') {
          expect(parsed).to.deep.equal({ kind: 'ping', forge: 'github', deliveryId: 'gh-1' });
        } else {
          expect(parsed).to.include({ kind: 'ignored', event: name });
        }
      }
    });
  }
});
