// `norn cron` and `norn invoke` against the running service on the Nomad simulator: a deploy registers the periodic
// job and the function's parameterized job; run now forces the periodic job, invoke dispatches with the payload,
// history lists the child jobs (also those this receiver did not start); pause registers the periodic job disabled,
// a later deploy keeps it so, and resume enables it again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cronCommandWith } from '../../src/cli/cron-commands.js';
import { invokeCommandWith } from '../../src/cli/run-commands.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { eventually, startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

describe('norn cron and norn invoke on Nomad (simulator)', function () {
  this.timeout(60_000);
  const app = 'jobs';
  let repo: TestRepo;
  let sim: NomadSimulator;
  let svc: TestService;
  let env: Record<string, string>;
  let work: string;
  const cron = cronCommandWith({ pollMs: 100 });
  const events = async (sagaId: string) => ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: { action: string; message: string; metadata: Record<string, unknown> }[] }).events;
  const deploy = async () => {
    const res = await svc.api(`/api/apps/${app}/deploy`, { method: 'POST', body: '{}' });
    expect(res.status).to.equal(202);
    const { sagaId } = ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!;
    return eventually('the deploy to end', async () => {
      const answer = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null }; events: { action: string; message: string }[] };
      if (answer.saga.status === 'failed') throw new Error(`deploy failed: ${answer.saga.error}`);
      return answer.saga.status === 'succeeded' ? answer : undefined;
    });
  };
  const nextSecond = async () => {
    const now = Math.floor(Date.now() / 1000);
    await eventually('the next second', async () => (Math.floor(Date.now() / 1000) > now ? true : undefined));
  };

  before(async () => {
    repo = createTestRepo(app);
    repo.commit({ 'README.md': 'jobs' }, 'first');
    sim = await NomadSimulator.start();
    // The function `fail` acts out a task that exits 1 (the scenario is fixed when its job is registered).
    sim.setScenario({ jobId: `${app}-fail` }, 'crash');
    svc = await startTestService({
      nomad: sim,
      env: { NORN_API_TOKEN: 'nomad-cron-token' },
      specs: {
        [app]: {
          name: app,
          image: 'reg/jobs:1',
          repo: { url: repo.url, branch: 'main' },
          processes: {
            tick: { schedule: '*/5 * * * *', command: 'echo tick' },
            greet: { function: { timeout: '30s', memory: 64 }, command: 'cat "$NORN_PAYLOAD_FILE"' },
            fail: { function: {}, command: 'exit 1' },
          },
        },
      },
    });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'nomad-cron-token' };
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cron-nomad-'));
    await deploy();
  });
  after(async () => {
    await svc?.close();
    await sim?.close();
    repo?.remove();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('plans the function jobs with the others (norn plan)', async () => {
    const plan = (await (await svc.api(`/api/apps/${app}/plan`)).json()) as { jobs: { ID: string }[] };
    expect(plan.jobs.map((j) => j.ID)).to.deep.equal([`${app}-tick`, `${app}-fail`, `${app}-greet`]);
  });

  it('registers the periodic job enabled and each function as a parameterized job that takes a payload', () => {
    expect(sim.job(`${app}-tick`)!.Periodic).to.include({ Enabled: true, Spec: '*/5 * * * *' });
    const greet = sim.job(`${app}-greet`)!;
    expect(greet).to.include({ Type: 'batch' });
    expect(greet.ParameterizedJob).to.include({ Payload: 'optional' });
    const group = greet.TaskGroups[0]!;
    expect(group.RestartPolicy).to.include({ Attempts: 0, Mode: 'fail' });
    expect(group.Tasks[0]!.DispatchPayload).to.deep.equal({ File: 'payload' });
    expect(group.Tasks[0]!.Env).to.include({ NORN_PAYLOAD_FILE: '${NOMAD_TASK_DIR}/payload' });
    expect(group.Tasks[0]!.Resources).to.include({ MemoryMB: 64 });
    // Registering a parameterized job runs nothing.
    expect(sim.allocations(`${app}-greet`)).to.deep.equal([]);
  });

  it('runs a schedule now by forcing the periodic job, and follows the child job to its end', async () => {
    const c = captureIo();
    expect(await cron([app, 'run', 'tick', '--wait'], env, c.io), c.err()).to.equal(0);
    const [started, sagaLine] = c.lines();
    const child = /^tick started as Nomad job (jobs-tick\/periodic-\d+)$/.exec(started!)![1]!;
    expect(sim.requests.some((r) => r.method === 'POST' && r.path === `/v1/job/${app}-tick/periodic/force`)).to.equal(true);
    expect(sim.job(child)).to.include({ ParentID: `${app}-tick`, Status: 'dead' });
    const sagaId = /saga ([0-9a-f-]{36})/.exec(sagaLine!)![1]!;
    expect(c.err()).to.match(new RegExp(`tick \\(manual\\) {2}exit 0 .* ${sagaId} {2}${child.replace('/', '\\/')}`));
    const saga = await events(sagaId);
    expect(saga.map((e) => e.action)).to.deep.equal(['run.start', 'run.complete']);
    expect(saga[0]!.metadata).to.include({ trigger: 'manual', nomadJobId: child });
  });

  it('lists every launch of the periodic job, also those it did not start, newest first', async () => {
    await nextSecond();
    // Nomad launching the job on its own (as its schedule would): no saga of this receiver.
    const forced = await fetch(`${sim.url}/v1/job/${app}-tick/periodic/force`, { method: 'POST' });
    expect(forced.status).to.equal(200);
    const history = await eventually('both launches to end', async () => {
      const c = captureIo();
      expect(await cron([app, 'history', 'tick'], env, c.io)).to.equal(0);
      return c.lines().length === 2 && c.lines().every((l) => l.includes('exit 0')) ? c.lines() : undefined;
    });
    expect(history[0]).to.match(/tick \(schedule\) {2}exit 0 .* - {2}jobs-tick\/periodic-\d+$/);
    expect(history[1]).to.match(/tick \(manual\) {2}exit 0 .* [0-9a-f-]{36} {2}jobs-tick\/periodic-\d+$/);
  });

  it('invokes a function by dispatching its job with the payload, and reports a failing one', async () => {
    const file = path.join(work, 'in.json');
    fs.writeFileSync(file, '{"id":7}');
    const c = captureIo();
    expect(await invokeCommandWith()([app, 'greet', '--payload', file], env, c.io), c.err()).to.equal(0);
    const dispatch = sim.requests.find((r) => r.path === `/v1/job/${app}-greet/dispatch`)!;
    expect(dispatch.body).to.deep.equal({ Payload: Buffer.from('{"id":7}').toString('base64') });
    expect(c.err()).to.match(/greet \(invoke\) {2}exit 0 .* [0-9a-f-]{36} {2}jobs-greet\/dispatch-\d+-[0-9a-f]{8}\n$/);
    const child = /(jobs-greet\/dispatch-\d+-[0-9a-f]{8})/.exec(c.err())![1]!;
    expect(sim.job(child)).to.include({ ParentID: `${app}-greet`, Dispatched: true, Payload: Buffer.from('{"id":7}').toString('base64') });

    const failed = captureIo();
    expect(await invokeCommandWith()([app, 'fail'], env, failed.io)).to.equal(1);
    expect(failed.err()).to.match(/fail \(invoke\) {2}failed: Failed tasks/);

    const args = captureIo();
    expect(await invokeCommandWith()([app, 'greet', 'x'], env, args.io)).to.equal(1);
    expect(args.err()).to.contain('norn: args: arguments reach a function on the Docker runtime only; on Nomad send them in the payload');

    const runs = captureIo();
    expect(await cron([app, 'history', 'greet'], env, runs.io)).to.equal(0);
    expect(runs.lines()).to.have.length(1);
  });

  it('pauses by registering the periodic job disabled, keeps it so through a deploy, and resumes', async () => {
    const versions = sim.jobVersions(`${app}-tick`).length;
    const paused = captureIo();
    expect(await cron([app, 'pause', 'tick'], env, paused.io), paused.err()).to.equal(0);
    expect(paused.lines()[0]).to.equal('tick paused: it does not run on its schedule until resumed (Nomad: changed)');
    expect(sim.job(`${app}-tick`)!.Periodic!.Enabled).to.equal(false);
    expect(sim.jobVersions(`${app}-tick`)).to.have.length(versions + 1);
    const sagaId = /saga ([0-9a-f-]{36})/.exec(paused.out())![1]!;
    const saga = await events(sagaId);
    expect(saga.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.progress', 'operation.complete']);
    expect(saga[1]!.message).to.equal(`periodic job ${app}-tick registered disabled in Nomad`);

    // Nomad itself refuses to force a disabled periodic job; the receiver says so before asking.
    const forced = await fetch(`${sim.url}/v1/job/${app}-tick/periodic/force`, { method: 'POST' });
    expect(forced.status).to.equal(500);
    expect(await forced.text()).to.equal(`force launch for job "${app}-tick" failed: can't force run non-tracked job "${app}-tick" (default)`);
    const refused = captureIo();
    expect(await cron([app, 'run', 'tick'], env, refused.io)).to.equal(1);
    expect(refused.err()).to.contain('the schedule of tick is paused; resume it first');

    const redeploy = await deploy();
    expect(sim.job(`${app}-tick`)!.Periodic!.Enabled).to.equal(false);
    expect(redeploy.events.find((e) => e.action === 'nomad.submitted')!.message).to.contain(`periodic job ${app}-tick (paused: norn cron resume)`);

    const resumed = captureIo();
    expect(await cron([app, 'resume', 'tick'], env, resumed.io), resumed.err()).to.equal(0);
    expect(resumed.lines()[0]).to.equal('tick resumed: it runs on its schedule again (Nomad: changed)');
    expect(sim.job(`${app}-tick`)!.Periodic!.Enabled).to.equal(true);
    const listed = captureIo();
    expect(await cron([app], env, listed.io)).to.equal(0);
    expect(listed.lines()).to.deep.equal(['tick  */5 * * * * (UTC)  active']);
  });
});
