// The read and control commands against the running service: saga logs, app status, deliveries with their
// decision trace, redelivery, and the live feed.
import { expect } from 'chai';
import { appsCommand, statusCommand } from '../../src/cli/app-commands.js';
import { deliveriesCommand, deliveryCommand, redeliverCommand } from '../../src/cli/delivery-commands.js';
import { sagaCommand } from '../../src/cli/saga-command.js';
import { watchCommandWith } from '../../src/cli/watch-command.js';
import { TOKEN_REFUSED } from '../../src/http/auth.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

describe('norn read and control commands against the running service', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;
  let env: Record<string, string>;
  let sagaId: string;
  let deliveryId: string;
  let noMatchId: string;

  async function sagaEnded(id: string): Promise<void> {
    await eventually(`saga ${id} to end`, async () => {
      const res = (await (await fetch(`${svc.url}/api/sagas/${id}`, { headers: { authorization: `Bearer ${env.NORN_API_TOKEN}` } })).json()) as { saga: { status: string } };
      return ['succeeded', 'failed'].includes(res.saga.status) ? true : undefined;
    });
  }

  before(async () => {
    repo = createTestRepo('shop');
    svc = await startTestService({ specs: { shop: specFor('shop', repo.url) }, env: { NORN_API_TOKEN: 'cli-test-token' } });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'cli-test-token', TZ: 'UTC' };
    const sha = repo.commit({ 'README.md': 'one' }, 'first');
    const pushed = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    deliveryId = pushed.body.deliveryId as string;
    sagaId = (pushed.body.deploys as { sagaId: string }[])[0]!.sagaId;
    await sagaEnded(sagaId);
    const other = repo.commit({ 'x.txt': 'x' }, 'feature', 'feature/x');
    noMatchId = (await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: other, ref: 'refs/heads/feature/x' }))).body.deliveryId as string;
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('prints a saga as HH:MM:SS <icon> <message>', async () => {
    const c = captureIo();
    expect(await sagaCommand([sagaId], env, c.io), c.err()).to.equal(0);
    const [header, ...lines] = c.lines();
    expect(header).to.match(new RegExp(`^saga ${sagaId}  shop refs/heads/main @ [0-9a-f]{12}  succeeded$`));
    expect(lines.every((l) => /^\d\d:\d\d:\d\d [▶✓✗·] \S/.test(l)), lines.join('\n')).to.equal(true);
    expect(lines[0]).to.match(/ · deploy of shop queued/);
    expect(lines).to.satisfy((ls: string[]) => ls.some((l) => / ▶ clone started$/.test(l)) && ls.some((l) => / ✓ deploy of shop succeeded/.test(l)));
  });

  it('prints an app\'s recent events with --app and --limit', async () => {
    const c = captureIo();
    expect(await sagaCommand(['--app', 'shop', '--limit', '3'], env, c.io), c.err()).to.equal(0);
    expect(c.lines()).to.have.length(4);
    expect(c.lines()[0]).to.equal(`── saga ${sagaId}`);
    expect(c.lines().at(-1)).to.match(/ ✓ deploy of shop succeeded/);
  });

  it('shows an app\'s status and the app list', async () => {
    const status = captureIo();
    expect(await statusCommand(['shop'], env, status.io), status.err()).to.equal(0);
    expect(status.lines()).to.include('  deploy   idle (no deploy running)');
    expect(status.lines().find((l) => l.startsWith('  image    '))).to.include(`deployed by saga ${sagaId}`);
    expect(status.lines().some((l) => l.includes(`succeeded`) && l.includes(sagaId))).to.equal(true);
    const apps = captureIo();
    expect(await appsCommand([], env, apps.io)).to.equal(0);
    expect(apps.lines()[0]).to.match(/^shop {2}succeeded [0-9a-f]{12} /);
  });

  it('lists deliveries and explains why one did not deploy', async () => {
    const list = captureIo();
    expect(await deliveriesCommand([], env, list.io), list.err()).to.equal(0);
    expect(list.lines().map((l) => l.split(/\s+/)[3])).to.include.members(['queued', 'no-match']);
    const trace = captureIo();
    expect(await deliveryCommand([noMatchId], env, trace.io), trace.err()).to.equal(0);
    expect(trace.lines()).to.include('  signature  valid');
    expect(trace.lines()).to.include('    ✗ shop: branch feature/x is not the tracked branch main');
    expect(trace.lines().find((l) => l.startsWith('  verdict'))).to.match(/^ {2}verdict {4}no-match \(HTTP 200\): /);
  });

  it('redelivers a delivery, queuing its deploy again', async () => {
    const c = captureIo();
    expect(await redeliverCommand([deliveryId], env, c.io), c.err()).to.equal(0);
    expect(c.lines()[0]).to.match(new RegExp(`^redelivered ${deliveryId} as [0-9a-f-]{36}: queued`));
    const newSaga = /saga ([0-9a-f-]{36})/.exec(c.lines()[1] ?? '')?.[1];
    expect(newSaga).to.be.a('string').and.not.equal(sagaId);
    await sagaEnded(newSaga!);
  });

  it('follows the live feed of an app', async () => {
    const c = captureIo();
    const stop = new AbortController();
    const watch = watchCommandWith({ signal: stop.signal })(['shop'], env, c.io);
    await eventually('watch to connect', async () => (c.err().includes('watching shop') ? true : undefined));
    const res = await fetch(`${svc.url}/api/apps/shop/deploy`, { method: 'POST', headers: { authorization: `Bearer ${env.NORN_API_TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).to.equal(202);
    await eventually('the deploy to show in the feed', async () => (c.out().includes('✓ deployed') ? true : undefined));
    stop.abort();
    expect(await watch).to.equal(0);
    expect(c.lines()[0]).to.match(/^\d\d:\d\d:\d\d shop [0-9a-f]{8} · queued refs\/heads\/main @ [0-9a-f]{12} \(manual\)$/);
    expect(c.out()).to.match(/ ▶ clone started\n/);
  });

  it('says the token is wrong, as the API says it', async () => {
    const c = captureIo();
    expect(await statusCommand(['shop'], { ...env, NORN_API_TOKEN: 'wrong-token' }, c.io)).to.equal(1);
    expect(c.err()).to.equal(`norn: ${TOKEN_REFUSED}\n`);
  });
});
