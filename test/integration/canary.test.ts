// Canary deployments end to end on the Nomad simulator: a process with `canary` deploys its new version as
// canaries beside the old allocations, the deploy's health gate waits and says for what, `norn canary` shows it,
// and `norn promote` / `norn canary fail` decide (recorded as operator sagas). On the Docker runtime (real engine)
// the canaries are containers beside the old ones, decided by the same verbs or by evaluateAfter.
import { expect } from 'chai';
import { canaryCommandWith, promoteCommandWith } from '../../src/cli/canary-command.js';
import type { Confirmer } from '../../src/cli/confirm.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { answerAt, appContainers, removeAppContainers, webAppFiles, webAppSpec } from '../support/docker-runtime-app.js';
import { nonce, rawDocker } from '../support/docker-fixture.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

const nobody: Confirmer = { isInteractive: false, ask: async () => '' };
const typist = (answer: string): Confirmer & { questions: string[] } => {
  const questions: string[] = [];
  return { isInteractive: true, questions, ask: async (q) => (questions.push(q), answer) };
};

interface SagaEvent {
  action: string;
  message: string;
  metadata: Record<string, unknown>;
}

describe('canary deployments (norn canary, promote, canary fail)', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;

  const spec = (image: string) => specFor('shop', repo.url, { image, processes: { web: { port: 8080, health: { path: '/health' }, canary: { count: 1, evaluateAfter: '1h' } } } });
  const env = () => ({ NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir });
  const events = async (sagaId: string) => ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: SagaEvent[] }).events;
  const status = async (sagaId: string) => ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null } }).saga;

  /** Deploys `image` and resolves once the deploy is finished (first deploy) or its canaries wait for a decision. */
  async function deploy(image: string, until: 'done' | 'waiting'): Promise<string> {
    svc.writeSpec('shop', spec(image));
    await eventually('the catalog to load the new spec', async () => (svc.service.catalog.get('shop')?.spec.image === image ? true : undefined));
    const res = await svc.api('/api/apps/shop/deploy', { method: 'POST', body: '{}' });
    expect(res.status).to.equal(202);
    const { sagaId } = ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!;
    if (until === 'done') await eventually('the deploy to succeed', async () => ((await status(sagaId)).status === 'succeeded' ? true : undefined), 30_000);
    else await eventually('the canaries to wait for promotion', async () => ((await events(sagaId)).some((e) => e.action === 'canary.waiting') ? true : undefined), 30_000);
    return sagaId;
  }

  before(async () => {
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'shop' });
    svc = await startTestService({ env: { NORN_RUNTIME: 'nomad' } });
    await deploy('registry.example/shop:1', 'done');
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('waits for a decision, shows it, refuses to promote without confirmation, and promotes with --yes', async () => {
    const sagaId = await deploy('registry.example/shop:2', 'waiting');
    const waiting = (await events(sagaId)).find((e) => e.action === 'canary.waiting')!;
    expect(waiting.message).to.contain('waiting for promotion: `norn promote shop` rolls out the rest, `norn canary fail shop` stops them');
    expect(waiting.message).to.contain('(evaluateAfter 720s)');
    expect((await events(sagaId)).find((e) => e.action === 'canary.window-capped')?.message).to.contain('evaluateAfter 1h is longer than the health deadline');

    const shown = captureIo();
    expect(await canaryCommandWith({ confirmer: nobody })(['shop'], env(), shown.io)).to.equal(0);
    expect(shown.out()).to.match(/^shop {2}deployment [0-9a-f]{8} {2}job version 1 {2}running/);
    expect(shown.lines().map((l) => l.trim())).to.include.members(['process  canaries  healthy  unhealthy  promoted', 'web      1/1       1        0          no', 'waiting for promotion']);
    expect(shown.out()).to.contain(`the deploy (saga ${sagaId}) promotes them itself at ${String(waiting.metadata.promoteAt)}`);
    expect(shown.out()).to.contain('promote: norn promote shop    fail: norn canary fail shop');

    const refused = captureIo();
    expect(await promoteCommandWith({ confirmer: nobody })(['shop'], env(), refused.io)).to.equal(1);
    expect(refused.err()).to.contain('no terminal to confirm on, so repeat with --yes');
    const wrongName = typist('shpo');
    const mistyped = captureIo();
    expect(await promoteCommandWith({ confirmer: wrongName })(['shop'], env(), mistyped.io)).to.equal(1);
    expect(wrongName.questions[0]).to.contain('promote the canaries of web in deployment');
    expect(svc.nomad.deployments('shop').at(-1)!.TaskGroups.web!.Promoted).to.equal(false);

    const promoted = captureIo();
    expect(await promoteCommandWith({ confirmer: nobody })(['shop', '--yes'], env(), promoted.io), promoted.err()).to.equal(0);
    expect(promoted.lines()[0]).to.match(/^promoted the canaries of "web" in deployment [0-9a-f]{8} \(job version 1\): Nomad rolls out the rest$/);
    const operationId = /^recorded as saga ([0-9a-f-]{36})$/.exec(promoted.lines()[1]!)?.[1];
    expect(operationId).to.be.a('string');
    expect(promoted.lines()[2]).to.equal(`the deploy goes on in saga ${sagaId} (norn saga ${sagaId})`);

    await eventually('the deploy to succeed', async () => ((await status(sagaId)).status === 'succeeded' ? true : undefined), 30_000);
    expect((await events(sagaId)).find((e) => e.action === 'canary.promoted')?.metadata).to.include({ by: 'operator' });
    const operation = await events(operationId!);
    expect(operation.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);
    expect(operation[0]!.metadata).to.include({ verb: 'promote', deploySagaId: sagaId });
    const running = svc.nomad.allocations('shop').filter((a) => a.DesiredStatus === 'run');
    expect(running.map((a) => a.Job!.TaskGroups[0]!.Tasks[0]!.Config.image)).to.deep.equal(['registry.example/shop:2']);
  });

  it('fails the canaries with norn canary fail --yes: the deploy fails saying who decided, and rolls back', async () => {
    const sagaId = await deploy('registry.example/shop:3', 'waiting');
    const failed = captureIo();
    expect(await canaryCommandWith({ confirmer: nobody })(['fail', 'shop', '--yes'], env(), failed.io), failed.err()).to.equal(0);
    expect(failed.lines()[0], failed.out()).to.match(/^failed deployment [0-9a-f]{8} \(job version 2\): its canaries of "web" stop, the previous version keeps serving$/);
    const d = await eventually('the deploy to end', async () => {
      const s = await status(sagaId);
      return s.status === 'running' ? undefined : s;
    }, 30_000);
    expect(d.status).to.equal('failed');
    expect(d.error).to.contain('canaries failed by an operator (norn canary fail)').and.contain('rolled back to registry.example/shop:2');
    const operationId = /^recorded as saga ([0-9a-f-]{36})$/.exec(failed.lines()[1]!)![1]!;
    expect((await events(operationId))[0]!.metadata).to.include({ verb: 'canary fail' });
    expect(svc.nomad.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal('registry.example/shop:2');
  });

  it('refuses a decision when no canary waits, and an unknown or hostile app, changing nothing', async () => {
    const c = captureIo();
    expect(await promoteCommandWith({ confirmer: nobody })(['shop', '--yes'], env(), c.io)).to.equal(1);
    expect(c.err()).to.match(/^norn: app: no canary of shop waits for a decision: its latest deployment [0-9a-f]{8} \(job version \d+\) is (successful|failed)/);
    const asked = typist('shop');
    const interactive = captureIo();
    expect(await canaryCommandWith({ confirmer: asked })(['fail', 'shop'], env(), interactive.io)).to.equal(1);
    expect(asked.questions, 'nothing to decide: nothing is asked').to.deep.equal([]);
    expect(interactive.err()).to.match(/^norn: no canary of shop waits for a decision \(deployment [0-9a-f]{8} is (successful|failed)\); nothing was done\n$/);
    const before = svc.nomad.requests.filter((r) => r.path.startsWith('/v1/deployment/promote') || r.path.startsWith('/v1/deployment/fail')).length;
    const res = await svc.api('/api/apps/shop/canary/fail', { method: 'POST', body: '{}' });
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { error: string }).error).to.be.a('string').that.is.not.empty;
    // An unknown or malformed app answers as on every other app route: 404 naming it.
    const answer = async (path: string, method: string) => {
      const r = await svc.api(path, method === 'POST' ? { method, body: '{}' } : { method });
      return { status: r.status, body: (await r.json()) as unknown };
    };
    for (const name of ['nope', 'Bad..App']) {
      const elsewhere = await answer(`/api/apps/${name}/snapshots`, 'GET');
      expect(elsewhere).to.deep.equal({ status: 404, body: { error: `app ${name} not found` } });
      for (const [path, method] of [['/canary', 'GET'], ['/canary/promote', 'POST'], ['/canary/fail', 'POST']] as const) {
        expect(await answer(`/api/apps/${name}${path}`, method), `${method} ${name}${path}`).to.deep.equal(elsewhere);
      }
    }
    expect(svc.nomad.requests.filter((r) => r.path.startsWith('/v1/deployment/promote') || r.path.startsWith('/v1/deployment/fail')).length).to.equal(before);
  });

  it('shows a rollback waiting on its canaries as the run a decision is for, and links the decision to it', async () => {
    const res = await svc.api('/api/apps/shop/rollback', { method: 'POST', body: '{}' });
    expect(res.status, await res.clone().text()).to.equal(202);
    const { sagaId } = (await res.json()) as { sagaId: string };
    await eventually('the rollback\'s canaries to wait for promotion', async () => ((await events(sagaId)).some((e) => e.action === 'canary.waiting') ? true : undefined), 30_000);
    const shown = (await (await svc.api('/api/apps/shop/canary')).json()) as { deploy: { sagaId: string } | null };
    expect(shown.deploy?.sagaId).to.equal(sagaId);
    const promoted = captureIo();
    expect(await promoteCommandWith({ confirmer: nobody })(['shop', '--yes'], env(), promoted.io), promoted.err()).to.equal(0);
    expect(promoted.lines()[2]).to.equal(`the deploy goes on in saga ${sagaId} (norn saga ${sagaId})`);
    await eventually('the rollback to succeed', async () => ((await status(sagaId)).status === 'succeeded' ? true : undefined), 30_000);
  });
});

describe('canary deployments on the Docker runtime', function () {
  this.timeout(300_000);
  // `slow` waits for an operator (its evaluateAfter is capped at the 30 s health deadline); `quick` is promoted
  // by its evaluateAfter.
  const slow = `cnry-${nonce()}`;
  const quick = `cnrq-${nonce()}`;
  const repos: Record<string, TestRepo> = {};
  let svc: TestService;
  before(async () => {
    await requireDocker();
    const specs: Record<string, Record<string, unknown>> = {};
    for (const [app, evaluateAfter] of [[slow, '1m'], [quick, '3s']] as const) {
      repos[app] = createTestRepo(app);
      const spec = webAppSpec(app, repos[app].url);
      const web = (spec.processes as { web: Record<string, unknown> }).web;
      web.scaling = { min: 2 };
      web.canary = { count: 1, evaluateAfter };
      specs[app] = spec;
    }
    svc = await startTestService({
      env: { NORN_RUNTIME: 'docker', DOCKER_HOST: dockerHost(), NORN_DOCKER_NETWORK: 'host', NORN_DOCKER_MIN_HEALTHY_SECONDS: '1', NORN_HEALTHY_DEADLINE_SECONDS: '30' },
      specs,
    });
  });
  after(async () => {
    await svc?.close();
    for (const [app, repo] of Object.entries(repos)) {
      repo.remove();
      await removeAppContainers(app);
    }
  });

  const saga = async (sagaId: string) => (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null }; events: SagaEvent[] };
  const push = async (app: string, version: string, opts: { brokenHealth?: boolean } = {}): Promise<string> => {
    const sha = repos[app]!.commit(webAppFiles(version, opts));
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repos[app]!.url, sha }));
    return (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
  };
  const ended = (sagaId: string) => eventually('the deploy to end', async () => {
    const answer = await saga(sagaId);
    return ['queued', 'running'].includes(answer.saga.status) ? undefined : answer;
  }, 200_000);
  const waitingFor = (sagaId: string) => eventually('the canaries to wait for promotion', async () => {
    const answer = await saga(sagaId);
    if (!['queued', 'running'].includes(answer.saga.status)) throw new Error(`the deploy ended (${answer.saga.status}: ${answer.saga.error}) before its canaries waited`);
    return answer.events.some((e) => e.action === 'canary.waiting') ? answer : undefined;
  }, 150_000);
  /** What each running container of `app` serves, by saga. */
  const serving = async (app: string) => {
    const found = (await appContainers(app)).filter((c) => c.State === 'running');
    return Promise.all(found.map(async (c) => ({ saga: c.Labels['norn.saga'], answer: await answerAt(`127.0.0.1:${c.Labels['norn.host-port']}`) })));
  };

  it('deploys a first version without a canary stage: there is nothing to compare canaries to', async () => {
    for (const app of [slow, quick]) {
      const first = await ended(await push(app, 'v1'));
      expect(first.saga.status, first.saga.error ?? '').to.equal('succeeded');
      expect(first.events.map((e) => e.action)).to.not.include('canary.placed');
      expect((await serving(app)).map((s) => s.answer)).to.deep.equal(['v1', 'v1']);
    }
  });

  it('runs the canary beside the old containers, shows it, and on norn promote replaces the old version', async () => {
    const sagaId = await push(slow, 'v2');
    const waiting = await waitingFor(sagaId);
    expect(waiting.events.find((e) => e.action === 'canary.waiting')?.message).to.contain(`norn promote ${slow}`).and.contain('(evaluateAfter 30s)');
    expect(waiting.events.find((e) => e.action === 'canary.window-capped')?.message).to.contain('raise NORN_HEALTHY_DEADLINE_SECONDS');
    // The old containers keep serving; one canary of the new version runs beside them.
    expect((await serving(slow)).map((s) => s.answer).sort()).to.deep.equal(['v1', 'v1', 'v2']);

    const shown = captureIo();
    expect(await canaryCommandWith({ confirmer: nobody })([slow], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, shown.io), shown.err()).to.equal(0);
    expect(shown.lines().map((l) => l.trim())).to.include.members(['web      1/1       1        0          no', 'waiting for promotion']);

    const promoted = captureIo();
    expect(await promoteCommandWith({ confirmer: nobody })([slow, '--yes'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, promoted.io), promoted.err()).to.equal(0);
    const done = await ended(sagaId);
    expect(done.saga.status, done.saga.error ?? '').to.equal('succeeded');
    expect(done.events.find((e) => e.action === 'canary.promoted')?.metadata.by).to.equal('operator');
    expect((await serving(slow)).map((s) => s.answer)).to.deep.equal(['v2', 'v2']);

    const after = (await (await svc.api(`/api/apps/${slow}/canary`)).json()) as { deployment: { status: string; waitingForPromotion: boolean } };
    expect(after.deployment).to.include({ status: 'successful', waitingForPromotion: false });
    const again = await svc.api(`/api/apps/${slow}/canary/promote`, { method: 'POST', body: '{}' });
    expect(again.status).to.equal(409);
  });

  it('on norn canary fail removes the canary, keeps the old version serving and fails the deploy saying who failed it', async () => {
    const sagaId = await push(slow, 'v3');
    await waitingFor(sagaId);
    const res = await svc.api(`/api/apps/${slow}/canary/fail`, { method: 'POST', body: '{}' });
    expect(res.status, await res.clone().text()).to.equal(200);
    const done = await ended(sagaId);
    expect(done.saga.status).to.equal('failed');
    expect(done.saga.error).to.contain('failed by an operator (norn canary fail)').and.contain('the previous version keeps serving');
    expect(done.events.map((e) => e.action)).to.include('canary.failed').and.not.include('canary.promoted');
    expect((await serving(slow)).map((s) => s.answer)).to.deep.equal(['v2', 'v2']);
  });

  it('fails the deploy at once when a waiting canary dies, and the old version keeps serving', async () => {
    const sagaId = await push(slow, 'v4');
    await waitingFor(sagaId);
    const [canary] = (await appContainers(slow)).filter((c) => c.Labels['norn.saga'] === sagaId);
    await rawDocker().getContainer(canary!.Id).kill();
    const done = await ended(sagaId);
    expect(done.saga.status).to.equal('failed');
    expect(done.saga.error).to.contain('canary unhealthy').and.contain('the previous version keeps serving');
    expect(done.events.find((e) => e.action === 'canary.failed')?.metadata.by).to.equal('health');
    expect((await serving(slow)).map((s) => s.answer)).to.deep.equal(['v2', 'v2']);
  });

  it('lets an operator fail a canary still in its health gate, which ends the gate at once', async () => {
    // A canary without /health never passes: only the operator's decision ends the deploy before the deadline.
    const sagaId = await push(slow, 'v5', { brokenHealth: true });
    await eventually('the canary to be placed', async () => ((await saga(sagaId)).events.some((e) => e.action === 'canary.placed') ? true : undefined), 150_000);
    const early = await svc.api(`/api/apps/${slow}/canary/promote`, { method: 'POST', body: '{}' });
    expect(early.status).to.equal(409);
    expect(((await early.json()) as { error: string }).error).to.contain('have not passed their health check yet');
    const res = await svc.api(`/api/apps/${slow}/canary/fail`, { method: 'POST', body: '{}' });
    expect(res.status, await res.clone().text()).to.equal(200);
    const done = await ended(sagaId);
    expect(done.saga.status).to.equal('failed');
    expect(done.saga.error).to.contain('failed by an operator (norn canary fail)');
    expect((await serving(slow)).map((s) => s.answer)).to.deep.equal(['v2', 'v2']);
  });

  it('promotes a healthy canary by itself once its evaluateAfter has passed', async () => {
    const done = await ended(await push(quick, 'v2'));
    expect(done.saga.status, done.saga.error ?? '').to.equal('succeeded');
    const actions = done.events.map((e) => e.action);
    expect(actions.indexOf('canary.placed')).to.be.greaterThan(-1).and.lessThan(actions.indexOf('canary.promoted'));
    expect(done.events.find((e) => e.action === 'canary.promoted')?.metadata.by).to.equal('evaluateAfter');
    expect((await serving(quick)).map((s) => s.answer)).to.deep.equal(['v2', 'v2']);
  });
});
