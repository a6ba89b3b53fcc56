// A pull request against an app's tracked branch gets a preflight: clone the head commit, build without pushing,
// test, plan with Nomad, reported as norn/preflight/<app> on the head commit. Nothing is registered.
import { expect } from 'chai';
import type { ForgeSimulator } from '../support/forge-simulator.js';
import type { TestRepo } from '../support/git-repos.js';
import { startPreflightService, type PreflightService } from '../support/preflight-service.js';
import { githubPullRequest, giteaPullRequest, post } from '../support/signed-delivery.js';
import { eventually, TEST_SECRET, type TestService } from '../support/test-service.js';
import { expectSubsequence } from '../support/subsequence.js';

describe('pull request preflight checks', function () {
  this.timeout(120_000);
  let preflights: PreflightService | undefined;
  let repo: TestRepo;
  let sim: ForgeSimulator;
  let svc: TestService;

  before(async () => {
    preflights = await startPreflightService('prapp', { gitea: true });
    ({ repo, sim, svc } = preflights);
  });
  after(async () => {
    await preflights?.close();
  });

  async function finalStatus(sha: string) {
    return eventually('the preflight status', async () => sim.statusesFor(sha, 'norn/preflight/prapp').find((s) => s.state !== 'pending'), 100_000);
  }

  it('runs a passing preflight for a GitHub pull request and registers nothing with Nomad', async () => {
    const head = repo.commit({ 'feature.txt': 'x' }, 'feature', 'feature');
    const res = await post(`${svc.url}/api/webhooks/github`, githubPullRequest({ secret: TEST_SECRET, repoUrl: repo.url, sha: head }));
    expect(res.status).to.equal(202);
    const run = (res.body.deploys as { kind: string; sagaId: string }[])[0]!;
    expect(run.kind).to.equal('preflight');
    const status = await finalStatus(head);
    expect(status.state).to.equal('success');
    const saga = (await (await svc.api(`/api/sagas/${run.sagaId}`)).json()) as { events: { action: string; metadata: { step?: string } }[] };
    const steps = saga.events.filter((e) => e.action === 'step.complete').map((e) => e.metadata.step);
    expectSubsequence(steps as string[], ['clone', 'build', 'test', 'submit', 'cleanup']);
    for (const never of ['snapshot', 'migrate', 'healthy', 'forge']) expect(steps).to.not.include(never);
    expect(saga.events.some((e) => e.action === 'nomad.planned')).to.equal(true);
    expect(svc.nomad.job('prapp')).to.equal(undefined);
    expect(svc.nomad.requests.filter((r) => r.method === 'POST' && r.path === '/v1/jobs')).to.deep.equal([]);
    // The pull request's checks count the preflight's own five steps, not a deploy's nine.
    const pending = sim.statusesFor(head, 'norn/preflight/prapp').filter((s) => s.state === 'pending').map((s) => s.description);
    const numbered = pending.filter((d) => /\d\/\d/.test(d));
    expect(numbered, pending.join(', ')).to.not.be.empty;
    expect(numbered.every((d) => d.endsWith('/5')), pending.join(', ')).to.equal(true);
  });

  it('reports a failing preflight on a Gitea pull request, and ignores one against another branch', async () => {
    const head = repo.commit({ 'check.sh': 'echo broken >&2; exit 1\n' }, 'break it', 'broken');
    const res = await post(`${svc.url}/api/webhooks/gitea`, giteaPullRequest({ secret: TEST_SECRET, repoUrl: repo.url, sha: head }));
    expect(res.status).to.equal(202);
    const status = await finalStatus(head);
    expect(status.forge).to.equal('gitea');
    expect(status.state).to.equal('failure');
    expect(status.description).to.contain('test');

    const other = await post(`${svc.url}/api/webhooks/github`, githubPullRequest({ secret: TEST_SECRET, repoUrl: repo.url, sha: head, base: 'release' }));
    expect(other.status).to.equal(200);
    expect(other.body.reason).to.contain('targets release, not the tracked branch main');
    const closed = await post(`${svc.url}/api/webhooks/github`, githubPullRequest({ secret: TEST_SECRET, repoUrl: repo.url, sha: head, action: 'closed' }));
    expect(closed.body.verdict).to.equal('ignored');
  });
});
