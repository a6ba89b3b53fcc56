// A push's deploy is reported back to the forge as commit statuses (the forge's status API simulated).
import { expect } from 'chai';
import { ForgeSimulator } from '../support/forge-simulator.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, giteaPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

describe('commit statuses for a pushed deploy', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let sim: ForgeSimulator;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo('statusapp');
    sim = await ForgeSimulator.start({ token: 'forge-token-xyz' });
    svc = await startTestService({
      env: { NORN_GITHUB_API_URL: sim.url, NORN_GITHUB_TOKEN: 'forge-token-xyz', NORN_GITEA_URL: sim.url, NORN_GITEA_TOKEN: 'forge-token-xyz', NORN_STATUS_POLL_INTERVAL_MS: '50', NORN_PUBLIC_URL: 'https://norn.example.com' },
      specs: { shop: specFor('shop', repo.url) },
    });
  });
  after(async () => {
    await svc.close();
    await sim.close();
    repo.remove();
  });

  it('goes pending through the steps to success on GitHub, linking the saga', async () => {
    const sha = repo.commit({ 'a.txt': 'a' });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const statuses = await eventually('a final status', async () => {
      const got = sim.statusesFor(sha, 'norn/deploy/shop');
      return got.some((s) => s.state !== 'pending') ? got : undefined;
    });
    expect(statuses[0]!.state).to.equal('pending');
    expect(statuses.at(-1)).to.include({ state: 'success', targetUrl: `https://norn.example.com/sagas/${sagaId}` });
    expect(statuses.some((s) => /clone 1\/9/.test(s.description))).to.equal(true);
    // The saga as it stands once the final status was reported, so the leak check covers the status.* events too.
    const saga = await eventually('the success status recorded in the saga', async () => {
      const got = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: { action: string; message: string; metadata: { state?: unknown } }[] };
      return got.events.some((e) => e.action === 'status.reported' && e.metadata.state === 'success') ? got : undefined;
    });
    expect(JSON.stringify(saga)).to.not.contain('forge-token-xyz');
  });

  it('reports failure naming the step on Gitea', async () => {
    const res = await post(`${svc.url}/api/webhooks/gitea`, giteaPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: 'e'.repeat(40) }));
    expect(res.status).to.equal(202);
    const final = await eventually('a final status', async () => sim.statusesFor('e'.repeat(40), 'norn/deploy/shop').find((s) => s.state !== 'pending'));
    expect(final.forge).to.equal('gitea');
    expect(final.state).to.equal('failure');
    expect(final.description).to.contain('clone');
  });
});
