import { expect } from 'chai';
import { createGiteaAdapter, FORGEJO_CONFIG, GITEA_CONFIG } from '../../../src/webhooks/gitea.js';
import type { PushEvent, RepositoryRef } from '../../../src/webhooks/parsed-delivery.js';
import { readFixture } from '../../support/fixtures-dir.js';
import { hmacHex, json, runTable, type Row } from './webhook-table.js';

const gitea = createGiteaAdapter(GITEA_CONFIG);
const forgejo = createGiteaAdapter(FORGEJO_CONFIG);
const ZERO = '0'.repeat(40);

/** Headers as Gitea/Forgejo send them: their own prefix, plus the GitHub-compatible copies. */
function headers(prefixes: string[], event: string, body: Buffer, extra: Record<string, string | undefined> = {}) {
  const own = Object.fromEntries(
    prefixes.flatMap((p) => [
      [`x-${p}-event`, event],
      [`x-${p}-delivery`, 'gt-1'],
      [`x-${p}-signature`, hmacHex(body)],
    ]),
  );
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': 'gt-1',
    'x-hub-signature-256': `sha256=${hmacHex(body)}`,
    ...own,
    ...extra,
  };
}

const knownVector = readFixture('gitea/go-playground-webhooks/push-event.json');
const hookPush = readFixture('gitea/woodpecker/HookPush.json');
const hookPushMulti = readFixture('gitea/woodpecker/HookPushMulti.json');
const hookPushBranch = readFixture('gitea/woodpecker/HookPushBranch.json');
const hookTag = readFixture('gitea/woodpecker/HookTag.json');

const helloWorld: RepositoryRef = {
  fullName: 'gordon/hello-world',
  urls: [
    'http://gitea.golang.org/gordon/hello-world.git',
    'git@gitea.golang.org:gordon/hello-world.git',
    'http://gitea.golang.org/gordon/hello-world',
  ],
  webUrl: 'http://gitea.golang.org',
};

const hookPushEvent: PushEvent = {
  kind: 'push',
  forge: 'gitea',
  deliveryId: 'gt-1',
  repository: helloWorld,
  ref: 'refs/heads/main',
  before: '4b2626259b5a97b6b4eab5e6cca66adb986b672b',
  after: 'ef98532add3b2feb7a137426bba1248724367df5',
  deleted: false,
  headCommitMessage: 'bump\n',
  author: 'gordon',
  commits: [
    {
      id: 'ef98532add3b2feb7a137426bba1248724367df5',
      message: 'bump\n',
      added: ['CHANGELOG.md'],
      removed: [],
      modified: ['app/controller/application.rb'],
    },
  ],
};

const multiEvent: PushEvent = {
  ...hookPushEvent,
  repository: {
    fullName: 'Test-CI/multi-line-secrets',
    urls: [
      'http://127.0.0.1:3000/Test-CI/multi-line-secrets.git',
      'ssh://git@127.0.0.1:2200/Test-CI/multi-line-secrets.git',
      'http://127.0.0.1:3000/Test-CI/multi-line-secrets',
    ],
    webUrl: 'http://127.0.0.1:3000',
  },
  before: '6efcf5b7c98f3e7a491675164b7a2e7acac27941',
  after: '29be01c073851cf0db0c6a466e396b725a670453',
  headCommitMessage: 'add some text\n',
  author: 'test-user',
  commits: [
    { id: '29be01c073851cf0db0c6a466e396b725a670453', message: 'add some text\n', added: [], removed: [], modified: ['aaa'] },
    { id: '29cd95250404bd007c13b03eabe521196bab98a5', message: 'rm a a file\n', added: [], removed: ['aa'], modified: [] },
    { id: '93787b87b3134d0d62c7a24c1ea5b1b6fd17ca91', message: 'add some a files\n', added: ['aa', 'aaa'], removed: [], modified: [] },
  ],
};

// Without head_commit the head is found by id, not by position: Gitea lists commits newest first.
const multiWithoutHead = json({ ...JSON.parse(hookPushMulti.toString('utf8')), head_commit: null });

const pullRequest = json({
  action: 'synchronized',
  number: 7,
  pull_request: { number: 7, base: { ref: 'main' }, head: { ref: 'feature/x', sha: 'b'.repeat(40) } },
  repository: JSON.parse(hookPush.toString('utf8')).repository,
});

describe('gitea adapter', () => {
  const rows: Row[] = [
    {
      name: 'known signature vector from go-playground/webhooks, over the file as captured',
      headers: {
        'x-gitea-event': 'push',
        'x-gitea-delivery': 'gt-1',
        'x-gitea-signature': '60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915',
      },
      body: knownVector,
      secret: 'IsWishesWereHorsesWedAllBeEatingSteak!',
      expected: {
        kind: 'push',
        forge: 'gitea',
        deliveryId: 'gt-1',
        repository: {
          fullName: 'example/example',
          urls: [
            'http://localhost:3000/example/example.git',
            'git@localhost:example/example.git',
            'http://localhost:3000/example/example',
          ],
          webUrl: 'http://localhost:3000',
        },
        ref: 'refs/heads/master',
        before: ZERO,
        after: '67b56589a45103f891bdee7c0546e5d40bc02001',
        deleted: false,
        headCommitMessage: 'example\n',
        author: 'example',
        commits: [
          {
            id: '67b56589a45103f891bdee7c0546e5d40bc02001',
            message: 'example\n',
            added: ['example'],
            removed: [],
            modified: [],
          },
        ],
      },
    },
    {
      name: 'known vector checked with another secret',
      headers: {
        'x-gitea-event': 'push',
        'x-gitea-delivery': 'gt-1',
        'x-gitea-signature': '60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915',
      },
      body: knownVector,
      expected: { status: 401, reason: /X-Gitea-Signature/ },
    },
    { name: 'push without head_commit', headers: headers(['gitea'], 'push', hookPush), body: hookPush, expected: hookPushEvent },
    {
      name: 'push of three commits, listed newest first',
      headers: headers(['gitea'], 'push', hookPushMulti),
      body: hookPushMulti,
      expected: multiEvent,
    },
    {
      name: 'push of three commits without head_commit still takes the message of `after`',
      headers: headers(['gitea'], 'push', multiWithoutHead),
      body: multiWithoutHead,
      expected: multiEvent,
    },
    {
      name: 'Gogs headers only',
      headers: {
        'x-gogs-event': 'push',
        'x-gogs-delivery': 'gt-1',
        'x-gogs-signature': hmacHex(hookPush),
      },
      body: hookPush,
      expected: hookPushEvent,
    },
    {
      name: 'pull_request',
      headers: headers(['gitea'], 'pull_request', pullRequest),
      body: pullRequest,
      expected: {
        kind: 'pull_request',
        forge: 'gitea',
        deliveryId: 'gt-1',
        repository: helloWorld,
        action: 'synchronized',
        number: 7,
        baseBranch: 'main',
        headSha: 'b'.repeat(40),
        headRef: 'feature/x',
      },
    },
    {
      name: 'create (a tag; its push event is what deploys) is ignored',
      headers: headers(['gitea'], 'create', hookTag),
      body: hookTag,
      expected: {
        kind: 'ignored',
        forge: 'gitea',
        deliveryId: 'gt-1',
        event: 'create',
        reason: 'gitea event "create" does not trigger deploys',
      },
    },
    {
      name: 'only the GitHub-compatible signature is not enough',
      headers: headers(['gitea'], 'push', hookPush, { 'x-gitea-signature': undefined }),
      body: hookPush,
      expected: { status: 401, reason: /missing header X-Gitea-Signature/ },
    },
    {
      name: 'signature of other bytes',
      headers: headers(['gitea'], 'push', hookPushMulti),
      body: hookPush,
      expected: { status: 401, reason: /X-Gitea-Signature/ },
    },
    {
      name: 'missing X-Gitea-Delivery',
      headers: headers(['gitea'], 'push', hookPush, { 'x-gitea-delivery': undefined }),
      body: hookPush,
      expected: { status: 400, reason: /missing header X-Gitea-Delivery/ },
    },
    {
      name: 'malformed JSON',
      headers: headers(['gitea'], 'push', Buffer.from('not json')),
      body: Buffer.from('not json'),
      expected: { status: 400, reason: /not valid JSON/ },
    },
  ];
  runTable(gitea, rows);
});

describe('forgejo adapter (the gitea adapter with the Forgejo prefix)', () => {
  const rows: Row[] = [
    {
      name: 'new branch pushed to Codeberg, with X-Forgejo-* and X-Gitea-* headers',
      headers: headers(['forgejo', 'gitea'], 'push', hookPushBranch),
      body: hookPushBranch,
      expected: {
        kind: 'push',
        forge: 'forgejo',
        deliveryId: 'gt-1',
        repository: {
          fullName: 'meisam/woodpecktester',
          urls: [
            'https://codeberg.org/meisam/woodpecktester.git',
            'git@codeberg.org:meisam/woodpecktester.git',
            'https://codeberg.org/meisam/woodpecktester',
          ],
          webUrl: 'https://codeberg.org',
        },
        ref: 'refs/heads/fdsafdsa',
        before: ZERO,
        after: '28c3613ae62640216bea5e7dc71aa65356e4298b',
        deleted: false,
        headCommitMessage: "Delete '.woodpecker/.check.yml'\n",
        author: '6543',
        commits: [],
      },
    },
    {
      name: 'signed only in X-Gitea-Signature',
      headers: headers(['gitea'], 'push', hookPushBranch, { 'x-forgejo-event': 'push', 'x-forgejo-delivery': 'gt-1' }),
      body: hookPushBranch,
      expected: { status: 401, reason: /missing header X-Forgejo-Signature/ },
    },
    {
      name: 'missing X-Forgejo-Event',
      headers: headers(['forgejo'], 'push', hookPushBranch, { 'x-forgejo-event': undefined }),
      body: hookPushBranch,
      expected: { status: 400, reason: /missing header X-Forgejo-Event/ },
    },
  ];
  runTable(forgejo, rows);

  it('detects by its own prefix only', () => {
    const giteaOnly = { headers: headers(['gitea'], 'push', hookPush), body: hookPush };
    const forgejoToo = { headers: headers(['forgejo', 'gitea'], 'push', hookPush), body: hookPush };
    expect([forgejo.detects(giteaOnly), forgejo.detects(forgejoToo), gitea.detects(giteaOnly)]).to.deep.equal([
      false,
      true,
      true,
    ]);
  });
});
