// The delivery verdict as a table: a parsed delivery and the apps the catalog holds in, the verdict, status, reason
// and trace out. Every verdict `decide` can give and every reason it gives one for has a row; the catalog is a real
// index over validated specs, so the reasons are the ones a user reads in `norn deliveries`.
import { expect } from 'chai';
import type { LoadedApp, SpecError } from '../../../src/apps/load-app-specs.js';
import { matchPullRequest } from '../../../src/apps/match-pull-request.js';
import { buildAppIndex, matchPush } from '../../../src/apps/match-push.js';
import { validateAppSpec } from '../../../src/apps/validate-app-spec.js';
import { decide, rejectionFor, type AppMatcher, type Decision } from '../../../src/deliveries/delivery-verdict.js';
import { WebhookRejectedError } from '../../../src/errors.js';
import type { ParsedDelivery, PullRequestEvent, PushEvent } from '../../../src/webhooks/parsed-delivery.js';

const SHA = 'a'.repeat(40);
const SHOP_URL = 'https://github.com/acme/shop.git';

function app(name: string, repo: Record<string, unknown> | undefined, warnings: LoadedApp['warnings'] = []): LoadedApp {
  const result = validateAppSpec({ name, image: 'nginx', repo, processes: { web: { port: 80 } } });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return { name, dir: `/apps/${name}`, file: `/apps/${name}/infraspec.yaml`, spec: result.spec, warnings };
}

function catalogOf(apps: readonly LoadedApp[], errors: readonly SpecError[] = []): AppMatcher {
  const index = buildAppIndex(apps, errors);
  return { match: (push) => matchPush(index, push), matchPullRequest: (pr) => matchPullRequest(index, pr) };
}

function push(overrides: Partial<PushEvent> = {}): PushEvent {
  return {
    kind: 'push',
    forge: 'github',
    deliveryId: 'd-1',
    repository: { fullName: 'acme/shop', urls: [SHOP_URL] },
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: SHA,
    deleted: false,
    headCommitMessage: 'change the price',
    author: 'dev',
    commits: [],
    ...overrides,
  };
}

function pullRequest(overrides: Partial<PullRequestEvent> = {}): PullRequestEvent {
  return {
    kind: 'pull_request',
    forge: 'github',
    deliveryId: 'd-2',
    repository: { fullName: 'acme/shop', urls: [SHOP_URL] },
    action: 'opened',
    number: 7,
    baseBranch: 'main',
    headSha: SHA,
    headRef: 'feature',
    ...overrides,
  };
}

const shop = app('shop', { url: SHOP_URL, branch: 'main', autoDeploy: true });
const shopManual = app('shop', { url: SHOP_URL, branch: 'main', autoDeploy: false });
const shopWarned = app('shop', { url: SHOP_URL, branch: 'main', autoDeploy: true }, [{ path: 'services', reason: 'unknown field, ignored' }]);
const blog = app('blog', { url: 'https://github.com/acme/blog.git', branch: 'main', autoDeploy: true });
const brokenShopSpec: SpecError = { file: '/apps/shop-admin/infraspec.yaml', path: 'processes.web.port', reason: 'must be a number', repo: 'github.com/acme/shop' };
const brokenOtherSpec: SpecError = { file: '/apps/wiki/infraspec.yaml', path: 'name', reason: 'is required', repo: 'github.com/acme/wiki' };

interface Row {
  readonly name: string;
  readonly parsed: ParsedDelivery;
  readonly apps: readonly LoadedApp[];
  readonly errors?: readonly SpecError[];
  readonly verdict: Decision['verdict'];
  readonly status: number;
  readonly reason: string;
  /** Apps queued, with the kind of run. */
  readonly runs?: readonly string[];
}

const table: readonly Row[] = [
  { name: 'a ping', parsed: { kind: 'ping', forge: 'github', deliveryId: 'd' }, apps: [shop], verdict: 'ping', status: 200, reason: 'ping received' },
  {
    name: 'an event that deploys nothing',
    parsed: { kind: 'ignored', forge: 'github', deliveryId: 'd', event: 'issues', reason: 'github event "issues" does not trigger deploys' },
    apps: [shop],
    verdict: 'ignored',
    status: 200,
    reason: 'github event "issues" does not trigger deploys',
  },
  { name: 'a push that deletes the branch', parsed: push({ deleted: true, after: '0'.repeat(40) }), apps: [shop], verdict: 'ignored', status: 200, reason: 'refs/heads/main was deleted; nothing to deploy' },
  { name: 'a push whose head commit says [skip ci]', parsed: push({ headCommitMessage: 'docs [Skip CI]' }), apps: [shop], verdict: 'ignored', status: 200, reason: 'head commit message says [skip ci]' },
  { name: 'a push to a tracked branch', parsed: push(), apps: [shop, blog], verdict: 'queued', status: 202, reason: `queued shop: ${SHA.slice(0, 12)}`, runs: ['shop deploy'] },
  {
    name: 'a push to a branch no app tracks',
    parsed: push({ ref: 'refs/heads/feature' }),
    apps: [shop],
    verdict: 'no-match',
    status: 200,
    reason: 'nothing to deploy: shop: branch feature is not the tracked branch main',
  },
  { name: 'a push to a tracked branch with autoDeploy off', parsed: push(), apps: [shopManual], verdict: 'no-match', status: 200, reason: 'nothing to deploy: shop: autoDeploy is off (push to tracked branch main)' },
  { name: 'a push for a repository no app tracks', parsed: push(), apps: [blog], verdict: 'no-match', status: 200, reason: 'nothing to deploy: no app tracks github.com/acme/shop' },
  {
    name: 'a push with no recognizable URL',
    parsed: push({ repository: { fullName: 'acme/shop', urls: [] } }),
    apps: [blog],
    verdict: 'no-match',
    status: 200,
    reason: 'nothing to deploy: no app tracks acme/shop',
  },
  {
    name: 'a push that matches nothing while a spec for its repository is broken',
    parsed: push(),
    apps: [blog],
    errors: [brokenShopSpec, brokenOtherSpec],
    verdict: 'no-match',
    status: 200,
    reason: 'nothing to deploy: no app tracks github.com/acme/shop; 1 invalid spec(s): /apps/shop-admin/infraspec.yaml processes.web.port must be a number',
  },
  {
    name: 'a pull request closed',
    parsed: pullRequest({ action: 'closed' }),
    apps: [shop],
    verdict: 'ignored',
    status: 200,
    reason: 'pull request #7 closed: only opened/synchronize/synchronized/reopened run a preflight',
  },
  { name: 'a pull request opened against a tracked branch', parsed: pullRequest(), apps: [shop], verdict: 'queued', status: 202, reason: `queued shop: preflight of #7 at ${SHA.slice(0, 12)}`, runs: ['shop preflight'] },
  {
    name: 'a pull request against another branch',
    parsed: pullRequest({ baseBranch: 'develop' }),
    apps: [shop],
    verdict: 'no-match',
    status: 200,
    reason: 'nothing to deploy: shop: pull request targets develop, not the tracked branch main',
  },
];

describe('delivery verdict (decide)', () => {
  for (const row of table) {
    it(`${row.name}: ${row.verdict} ${row.status}`, () => {
      const decision = decide(row.parsed, catalogOf(row.apps, row.errors));
      expect({ verdict: decision.verdict, status: decision.status, reason: decision.reason }).to.deep.equal({ verdict: row.verdict, status: row.status, reason: row.reason });
      expect(decision.runs.map((r) => `${r.app.name} ${r.kind}`)).to.deep.equal(row.runs ?? []);
      expect(decision.trace.signature).to.equal('valid');
      expect(decision.trace.steps[0]).to.equal('signature verified');
    });
  }

  it('every verdict decide can give has a row', () => {
    expect(new Set(table.map((r) => r.verdict))).to.deep.equal(new Set(['ping', 'ignored', 'queued', 'no-match']));
  });

  it('a queued push pins the pushed commit and ref, and its trace names each app decision and the identities matched', () => {
    const decision = decide(push(), catalogOf([shop, blog]));
    expect(decision.runs.map((r) => ({ ref: r.ref, commitSha: r.commitSha, prNumber: r.prNumber }))).to.deep.equal([{ ref: 'refs/heads/main', commitSha: SHA, prNumber: null }]);
    expect(decision.subject).to.deep.equal({ repo: 'acme/shop', ref: 'refs/heads/main', commitSha: SHA });
    expect(decision.trace).to.deep.include({ event: 'push', ref: 'refs/heads/main', commitSha: SHA });
    expect(decision.trace.steps).to.deep.equal(['signature verified', 'repository identities: github.com/acme/shop']);
    expect(decision.trace.apps).to.deep.equal([
      { app: 'shop', matched: true, reason: 'push to tracked branch main' },
      { app: 'blog', matched: false, reason: 'repo differs: tracks github.com/acme/blog, push is for github.com/acme/shop' },
    ]);
    expect(decision.trace.specWarnings).to.equal(undefined);
  });

  it('a queued delivery carries the warnings of the specs it queued, once per app', () => {
    const decision = decide(push(), catalogOf([shopWarned]));
    expect(decision.trace.specWarnings).to.deep.equal([{ app: 'shop', path: 'services', reason: 'unknown field, ignored' }]);
  });

  it('a pull request preflight runs on refs/pull/<n>/head at the head commit', () => {
    const decision = decide(pullRequest(), catalogOf([shop]));
    expect(decision.runs.map((r) => ({ ref: r.ref, commitSha: r.commitSha, prNumber: r.prNumber }))).to.deep.equal([{ ref: 'refs/pull/7/head', commitSha: SHA, prNumber: 7 }]);
    expect(decision.subject).to.deep.equal({ repo: 'acme/shop', ref: 'refs/pull/7/head', commitSha: SHA });
  });

  it('a trace lists broken specs only when they name this repository or no repository', () => {
    const unnamed: SpecError = { file: '/apps/x/infraspec.yaml', path: '', reason: 'the file is empty' };
    const decision = decide(push(), catalogOf([blog], [brokenShopSpec, brokenOtherSpec, unnamed]));
    expect(decision.trace.invalidSpecs.map((e) => e.file)).to.deep.equal([brokenShopSpec.file, unnamed.file]);
  });
});

describe('delivery verdict of a refusal (rejectionFor)', () => {
  // [refusal, how far checking got, status, reason, the trace's signature state]
  const table: [string, unknown, 'valid' | 'invalid' | 'not checked', number, string, string][] = [
    ['a bad signature', new WebhookRejectedError(401, 'X-Hub-Signature-256 does not match this webhook\'s secret'), 'invalid', 401, 'X-Hub-Signature-256 does not match this webhook\'s secret', 'invalid'],
    ['a 401 is a signature found invalid whatever the caller says', new WebhookRejectedError(401, 'missing header X-Gitlab-Token'), 'not checked', 401, 'missing header X-Gitlab-Token', 'invalid'],
    ['a missing delivery id, before verification', new WebhookRejectedError(400, 'missing delivery id header for github'), 'invalid', 400, 'missing delivery id header for github', 'not checked'],
    ['a bad payload field after verification', new WebhookRejectedError(400, 'invalid payload field after: must be a 40 or 64 character hex SHA'), 'valid', 400, 'invalid payload field after: must be a 40 or 64 character hex SHA', 'valid'],
    ['a body too large, refused unread', new WebhookRejectedError(413, 'body exceeds the limit of 1024 bytes'), 'not checked', 413, 'body exceeds the limit of 1024 bytes', 'not checked'],
    ['webhooks disabled', new WebhookRejectedError(503, 'webhooks are disabled: NORN_WEBHOOK_SECRET is not set on the receiver'), 'invalid', 503, 'webhooks are disabled: NORN_WEBHOOK_SECRET is not set on the receiver', 'not checked'],
    ['anything else a parser throws', new TypeError('Cannot read properties of null'), 'valid', 400, 'malformed delivery: Cannot read properties of null', 'valid'],
  ];
  for (const [name, err, signature, status, reason, traced] of table) {
    it(`${name}: ${status}`, () => {
      const rejection = rejectionFor(err, signature);
      expect(rejection).to.deep.equal({ verdict: 'rejected', status, reason, trace: { signature: traced, steps: [reason], apps: [], invalidSpecs: [] } });
    });
  }
});
