// A push to an app with endpoints, on a receiver with no cloudflared config file at all: the app goes live and
// healthy (Nomad simulated), so the deploy succeeds and says, in the saga and the commit status, that it is live but
// not routed. The forge's status API is simulated; git, the store and the service are real.
import { expect } from 'chai';
import { statusCommand } from '../../src/cli/app-commands.js';
import { ForgeSimulator } from '../support/forge-simulator.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

describe('a deploy with endpoints and no cloudflared config', function () {
  this.timeout(60_000);
  const missing = '/nonexistent/norn-live-not-routed/config.yml';
  let repo: TestRepo;
  let sim: ForgeSimulator;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo('notrouted');
    sim = await ForgeSimulator.start({ token: 'forge-token-xyz' });
    svc = await startTestService({
      env: { NORN_CLOUDFLARED_CONFIG: missing, NORN_GITHUB_API_URL: sim.url, NORN_GITHUB_TOKEN: 'forge-token-xyz', NORN_STATUS_POLL_INTERVAL_MS: '50' },
      specs: { shop: specFor('shop', repo.url, { endpoints: [{ url: 'https://shop.example.com' }] }) },
    });
  });
  after(async () => {
    await svc?.close();
    await sim?.close();
    repo?.remove();
  });

  it('succeeds as live but not routed, and says so in the saga and the commit status', async () => {
    const sha = repo.commit({ 'a.txt': 'a' });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    expect(res.status).to.equal(202);
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const final = await eventually('the final status', async () => sim.statusesFor(sha, 'norn/deploy/shop').find((s) => s.state !== 'pending'), 45_000);
    const reason = `no cloudflared config at ${missing} (NORN_CLOUDFLARED_CONFIG)`;
    expect(final).to.include({ state: 'success', description: `live, not routed: ${reason}` });
    const { events } = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: { action: string; message: string; metadata: Record<string, unknown> }[] };
    const warning = events.find((e) => e.action === 'cloudflared.not-routed');
    expect(warning?.message).to.equal(`live, not routed: ${reason}; shop.example.com do not reach shop until it exists and the deploy runs again`);
    const complete = events.find((e) => e.action === 'deploy.complete');
    expect(complete?.metadata).to.include({ notRouted: reason });
    expect(events.some((e) => e.action === 'deploy.failed')).to.equal(false);

    const status = captureIo();
    expect(await statusCommand(['shop'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, status.io), status.err()).to.equal(0);
    expect(status.lines()).to.include(`  routing  live, not routed: ${reason}`);
  });
});
