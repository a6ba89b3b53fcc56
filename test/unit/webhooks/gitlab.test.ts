import { createGitlabAdapter } from '../../../src/webhooks/gitlab.js';
import type { PushEvent, RepositoryRef } from '../../../src/webhooks/parsed-delivery.js';
import { readFixture } from '../../support/fixtures-dir.js';
import { json, runTable, SECRET, type Row } from './webhook-table.js';

const adapter = createGitlabAdapter();
const ZERO = '0'.repeat(40);
const COMMIT = '2adc9465c4edfc33834e173fe89436a7cb899a1d';
const fixture = (name: string) => readFixture(`gitlab/drone-go-scm/${name}`);

function headers(event: string | undefined, extra: Record<string, string | undefined> = {}) {
  return {
    'content-type': 'application/json',
    'x-gitlab-event': event,
    'x-gitlab-token': SECRET,
    'x-gitlab-event-uuid': 'gl-event-1',
    ...extra,
  };
}

const helloWorld: RepositoryRef = {
  fullName: 'gitlab-org/hello-world',
  urls: [
    'https://gitlab.com/gitlab-org/hello-world.git',
    'git@gitlab.com:gitlab-org/hello-world.git',
    'https://gitlab.com/gitlab-org/hello-world',
  ],
  webUrl: 'https://gitlab.com',
};

const pushEvent: PushEvent = {
  kind: 'push',
  forge: 'gitlab',
  deliveryId: 'gl-event-1',
  repository: helloWorld,
  ref: 'refs/heads/master',
  before: '9217710ce8c7e1eae7a5d1c45f6e43e1c769f866',
  after: COMMIT,
  deleted: false,
  headCommitMessage: 'added readme\n',
  author: 'sytses',
  commits: [{ id: COMMIT, message: 'added readme\n', added: ['README.md'], removed: [], modified: [] }],
};

const push = fixture('push.json');
const pushJson = JSON.parse(push.toString('utf8')) as Record<string, unknown>;
// An annotated tag: `after` is the tag object, checkout_sha the commit.
const annotatedTag = json({ ...JSON.parse(fixture('tag_create.json').toString('utf8')), after: 'c'.repeat(40) });

// Shaped after GitLab's documented merge request event; only the fields read are filled in.
const mergeRequest = json({
  object_kind: 'merge_request',
  project: pushJson.project,
  object_attributes: {
    iid: 12,
    action: 'open',
    source_branch: 'feature/login',
    target_branch: 'master',
    last_commit: { id: 'd'.repeat(40) },
  },
});

describe('gitlab adapter', () => {
  const rows: Row[] = [
    { name: 'Push Hook', headers: headers('Push Hook'), body: push, expected: pushEvent },
    {
      name: 'Tag Push Hook creating a tag',
      headers: headers('Tag Push Hook'),
      body: fixture('tag_create.json'),
      expected: { ...pushEvent, ref: 'refs/tags/v1.0.0', before: ZERO },
    },
    {
      name: 'Tag Push Hook of an annotated tag pins checkout_sha',
      headers: headers('Tag Push Hook'),
      body: annotatedTag,
      expected: { ...pushEvent, ref: 'refs/tags/v1.0.0', before: ZERO },
    },
    {
      name: 'Push Hook deleting a branch',
      headers: headers('Push Hook'),
      body: fixture('branch_delete.json'),
      expected: {
        ...pushEvent,
        ref: 'refs/heads/feature',
        before: 'c4c79227ed610f1151f05bbc5be33b4f340d39c8',
        after: ZERO,
        deleted: true,
        headCommitMessage: '',
        commits: [],
      },
    },
    {
      name: 'Idempotency-Key is preferred as the delivery id (kept across retries)',
      headers: headers('Push Hook', { 'idempotency-key': 'idem-1', 'x-gitlab-webhook-uuid': 'attempt-1' }),
      body: push,
      expected: { ...pushEvent, deliveryId: 'idem-1' },
    },
    {
      name: 'X-Gitlab-Webhook-UUID is the last resort for a delivery id',
      headers: headers('Push Hook', { 'x-gitlab-event-uuid': undefined, 'x-gitlab-webhook-uuid': 'attempt-1' }),
      body: push,
      expected: { ...pushEvent, deliveryId: 'attempt-1' },
    },
    {
      name: 'Merge Request Hook',
      headers: headers('Merge Request Hook'),
      body: mergeRequest,
      expected: {
        kind: 'pull_request',
        forge: 'gitlab',
        deliveryId: 'gl-event-1',
        repository: helloWorld,
        action: 'open',
        number: 12,
        baseBranch: 'master',
        headSha: 'd'.repeat(40),
        headRef: 'feature/login',
      },
    },
    {
      name: 'Issue Hook is ignored, naming the event',
      headers: headers('Issue Hook'),
      body: json({ object_kind: 'issue' }),
      expected: {
        kind: 'ignored',
        forge: 'gitlab',
        deliveryId: 'gl-event-1',
        event: 'Issue Hook',
        reason: 'gitlab event "Issue Hook" does not trigger deploys',
      },
    },
    {
      name: 'wrong token',
      headers: headers('Push Hook', { 'x-gitlab-token': 'guess' }),
      body: push,
      expected: { status: 401, reason: /X-Gitlab-Token/ },
    },
    {
      name: 'token that is the secret plus more',
      headers: headers('Push Hook', { 'x-gitlab-token': `${SECRET}x` }),
      body: push,
      expected: { status: 401, reason: /X-Gitlab-Token/ },
    },
    {
      name: 'no token',
      headers: headers('Push Hook', { 'x-gitlab-token': undefined }),
      body: push,
      expected: { status: 401, reason: /missing header X-Gitlab-Token/ },
    },
    {
      name: 'missing X-Gitlab-Event',
      headers: headers(undefined),
      body: push,
      expected: { status: 400, reason: /missing header X-Gitlab-Event/ },
    },
    {
      name: 'no delivery id header at all',
      headers: headers('Push Hook', { 'x-gitlab-event-uuid': undefined }),
      body: push,
      expected: { status: 400, reason: /missing header Idempotency-Key or X-Gitlab-Event-UUID/ },
    },
    {
      name: 'malformed JSON',
      headers: headers('Push Hook'),
      body: Buffer.from('{'),
      expected: { status: 400, reason: /not valid JSON/ },
    },
    {
      name: 'push without project',
      headers: headers('Push Hook'),
      body: json({ ...pushJson, project: undefined }),
      expected: { status: 400, reason: /field project:/ },
    },
    {
      name: 'merge request without last_commit',
      headers: headers('Merge Request Hook'),
      body: json({ project: pushJson.project, object_attributes: { iid: 1, source_branch: 'a', target_branch: 'b' } }),
      expected: { status: 400, reason: /field object_attributes\.last_commit:/ },
    },
  ];
  runTable(adapter, rows);
});
