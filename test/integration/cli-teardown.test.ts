// `norn teardown`'s question names what the receiver's runtime will really do, as it says in
// GET /api/apps/:app/instances/teardown: on Docker, the ingress rules and the app's containers; on Nomad, which
// stops no job on teardown, only the rules, and with no rules it asks nothing and says what stays running.
import fs from 'node:fs';
import { expect } from 'chai';
import { teardownCommandWith } from '../../src/cli/ingress-commands.js';
import type { Confirmer } from '../../src/cli/confirm.js';
import { captureIo } from '../fakes/capture-io.js';
import { nonce } from '../support/docker-fixture.js';
import { appContainers, removeAppContainers } from '../support/docker-runtime-app.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { eventually, startTestService, type TestService } from '../support/test-service.js';

function person(answer: string): Confirmer & { questions: string[] } {
  const questions: string[] = [];
  return { isInteractive: true, questions, ask: async (q) => (questions.push(q), answer) };
}

async function deployed(svc: TestService, app: string): Promise<void> {
  const res = await svc.api(`/api/apps/${app}/deploy`, { method: 'POST', body: '{}' });
  expect(res.status).to.equal(202);
  const sagaId = ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!.sagaId;
  const saga = await eventually(`deploy of ${app} to end`, async () => {
    const s = ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null } }).saga;
    return ['queued', 'running'].includes(s.status) ? undefined : s;
  }, 90_000);
  expect(saga.status, saga.error ?? '').to.equal('succeeded');
}

const preview = async (svc: TestService, app: string) => (await (await svc.api(`/api/apps/${app}/instances/teardown`)).json()) as Record<string, unknown>;
const instances = async (svc: TestService, app: string) => (await (await svc.api(`/api/apps/${app}/instances`)).json()) as { state: string }[];

describe('norn teardown on the Docker runtime (real engine)', function () {
  this.timeout(120_000);
  const app = `td-${nonce()}`;
  let svc: TestService;
  let env: Record<string, string>;

  before(async () => {
    await requireDocker();
    svc = await startTestService({
      env: { NORN_RUNTIME: 'docker', DOCKER_HOST: dockerHost(), NORN_DOCKER_NETWORK: 'host', NORN_DOCKER_MIN_HEALTHY_SECONDS: '1' },
      specs: { [app]: { name: app, image: 'norn-base:latest', processes: { worker: { command: 'sleep 600' } } } },
    });
    env = { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir };
    await deployed(svc, app);
    fs.writeFileSync(svc.cloudflaredConfig, `tunnel: test\ningress:\n  - hostname: ${app}.example.com # norn:${app}\n    service: http://127.0.0.1:9\n  - service: http_status:404\n`);
  });
  after(async () => {
    await svc?.close();
    await removeAppContainers(app);
  });

  it('asks about the ingress rules and the containers, and changes nothing unless the name is typed', async () => {
    expect(await preview(svc, app)).to.deep.equal({ app, runtime: 'docker', stops: 1, note: null });
    const wrong = person('not-it');
    const c = captureIo();
    expect(await teardownCommandWith({ confirmer: wrong })([app], env, c.io)).to.equal(1);
    expect(wrong.questions).to.have.length(1);
    expect(wrong.questions[0]).to.contain(`remove ${app}'s cloudflared ingress rules, so ${app}.example.com stop reaching it, and stop and remove its 1 instance(s)`);
    expect(await appContainers(app)).to.have.length(1);
    expect(fs.readFileSync(svc.cloudflaredConfig, 'utf8')).to.contain(`norn:${app}`);

    const yes = captureIo();
    expect(await teardownCommandWith({ confirmer: person(app) })([app], env, yes.io), yes.err()).to.equal(0);
    expect(yes.out()).to.contain(`cloudflared ingress removed ${app}.example.com`).and.contain(`stopped and removed 1 container(s) of ${app}`);
    expect(await appContainers(app)).to.deep.equal([]);
    expect(fs.readFileSync(svc.cloudflaredConfig, 'utf8')).not.to.contain(`norn:${app}`);
  });
});

describe('norn teardown on the Nomad runtime (simulator)', function () {
  this.timeout(120_000);
  const app = `tdn-${nonce()}`;
  let svc: TestService;
  let env: Record<string, string>;

  before(async () => {
    await requireDocker();
    svc = await startTestService({
      env: { DOCKER_HOST: dockerHost() },
      specs: { [app]: { name: app, image: 'norn-base:latest', processes: { web: { port: 8080, health: { path: '/health' } } } } },
    });
    env = { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir };
    await deployed(svc, app);
  });
  after(async () => svc?.close());

  it('with no hostnames asks nothing, says the job stays running and how to stop it, and stops nothing', async () => {
    const running = await instances(svc, app);
    expect(running.map((i) => i.state)).to.include('running');
    expect(await preview(svc, app)).to.deep.equal({ app, runtime: 'nomad', stops: 0, note: `Nomad jobs are not stopped by teardown: run \`nomad job stop ${app}\`` });
    const p = person(app);
    const c = captureIo();
    expect(await teardownCommandWith({ confirmer: p })([app], env, c.io), c.err()).to.equal(0);
    expect(p.questions, 'nothing to confirm').to.deep.equal([]);
    expect(c.out()).to.equal(`${app} has no cloudflared rules and teardown would stop none of its instances (Nomad jobs are not stopped by teardown: run \`nomad job stop ${app}\`); nothing to tear down\n`);
    expect(c.out()).not.to.match(/stop \d+ running instance/);
    expect(await instances(svc, app)).to.deep.equal(running);
    expect(svc.nomad.job(app), 'the job is still registered').to.not.equal(undefined);
  });
});
