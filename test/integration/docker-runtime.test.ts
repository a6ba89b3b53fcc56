// The Docker runtime end to end on the real engine (host networking: the test engine has no bridge): a push
// builds the app and runs it; a second push replaces it with no moment where neither version answers; a push
// whose health check fails leaves the running version serving.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { teardownCommandWith } from '../../src/cli/ingress-commands.js';
import { captureIo } from '../fakes/capture-io.js';
import { readSaga } from '../support/deploy-pushes.js';
import { startDockerAppService, type DockerAppService } from '../support/docker-app-service.js';
import type { TestRepo } from '../support/git-repos.js';
import { answerAt, appContainers, webAppFiles, webAppSpec } from '../support/docker-runtime-app.js';
import { nonce } from '../support/docker-fixture.js';
import { eventually, type TestService } from '../support/test-service.js';

interface Instance {
  process: string;
  id: string;
  address: string | null;
  image: string | null;
  commitSha: string | null;
  state: string;
  healthy: boolean | null;
}

interface SagaAnswer {
  saga: { status: string; error: string | null; imageTag: string | null };
  events: { action: string; message: string; metadata: Record<string, unknown> }[];
}

describe('Docker runtime on the real engine (host networking)', function () {
  this.timeout(240_000);
  const app = `dkr-${nonce()}`;
  let rig: DockerAppService | undefined;
  let repo: TestRepo;
  let svc: TestService;

  const push = (files: Record<string, string>): Promise<{ sha: string; sagaId: string }> => rig!.push(files);
  const saga = (id: string) => readSaga<SagaAnswer>(svc, id);
  const ended = (id: string) => rig!.ended<SagaAnswer>(id);
  const instances = async () => (await (await svc.api(`/api/apps/${app}/instances`)).json()) as Instance[];

  before(async () => {
    rig = await startDockerAppService(app, { gate: { minHealthySeconds: 2, healthyDeadlineSeconds: 20 } });
    ({ repo, svc } = rig);
  });
  after(async () => {
    await rig?.close();
  });

  it('runs a push, replaces it with the next push without a gap, and keeps it when the next one is unhealthy', async () => {
    // First push: the app answers at the address the API reports.
    const first = await push(webAppFiles('v1'));
    const s1 = await ended(first.sagaId);
    expect(s1.saga.status, s1.saga.error ?? '').to.equal('succeeded');
    const [v1] = await instances();
    expect(v1, 'one instance').to.include({ process: 'web', state: 'running', healthy: true, commitSha: first.sha });
    expect(v1!.image).to.equal(`${app}:${first.sha.slice(0, 12)}`);
    expect(await answerAt(v1!.address!)).to.equal('v1');

    // Second push: poll the old and every reported address while it replaces v1; some version always answers.
    const second = await push(webAppFiles('v2'));
    const addresses = new Set([v1!.address!]);
    let polls = 0;
    const gaps: number[] = [];
    for (;;) {
      for (const i of await instances()) if (i.address) addresses.add(i.address);
      const answers = await Promise.all([...addresses].map(answerAt));
      polls++;
      if (answers.every((a) => a === undefined)) gaps.push(polls);
      const s = await saga(second.sagaId);
      if (!['queued', 'running'].includes(s.saga.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const s2 = await ended(second.sagaId);
    expect(s2.saga.status, s2.saga.error ?? '').to.equal('succeeded');
    expect(gaps, `polls with no version answering (of ${polls})`).to.deep.equal([]);
    const afterSecond = await instances();
    expect(afterSecond.map((i) => i.commitSha)).to.deep.equal([second.sha]);
    expect(await answerAt(afterSecond[0]!.address!)).to.equal('v2');
    expect(await answerAt(v1!.address!)).to.equal(undefined);
    const left = await appContainers(app);
    expect(left.map((c) => c.Labels['norn.commit'])).to.deep.equal([second.sha]);
    expect(left[0]!.Labels).to.include({ 'norn.app': app, 'norn.process': 'web', 'norn.saga': second.sagaId });

    // Third push fails its health check: the deploy fails with the check's answer, v2 keeps serving alone.
    const third = await push(webAppFiles('v3', { brokenHealth: true }));
    const s3 = await ended(third.sagaId);
    expect(s3.saga.status).to.equal('failed');
    expect(s3.saga.error).to.match(/^healthy: .*GET \/health answered 404/);
    expect(s3.saga.error).to.match(/previous version keeps serving/);
    const afterThird = await instances();
    expect(afterThird.map((i) => i.commitSha)).to.deep.equal([second.sha]);
    expect(await answerAt(afterThird[0]!.address!)).to.equal('v2');
    expect((await appContainers(app)).length).to.equal(1);
  });

  it('runs a scheduled process on its schedule and an invoked function, each recorded with exit code and output', async () => {
    const spec = webAppSpec(app, repo.url);
    svc.writeSpec(app, {
      ...spec,
      processes: {
        ...(spec.processes as Record<string, unknown>),
        tick: { schedule: '* * * * *', timezone: 'Europe/Berlin', command: 'echo "tick from $(cat /www/index.html)"' },
        greet: { function: { timeout: '20s', memory: 32 }, command: 'echo "hello $1"; exit 4' },
      },
    });
    await eventually('the spec with the new processes', async () => {
      const res = await svc.api(`/api/apps/${app}/processes/greet/invoke`, { method: 'POST', body: JSON.stringify({ args: ['world'] }) });
      return res.status === 404 ? undefined : ((await res.json()) as { status: string; exitCode: number; logTail: string; sagaId: string });
    }).then((run) => {
      expect(run).to.include({ status: 'failed', exitCode: 4 });
      expect(run.logTail).to.contain('hello world');
    });

    const refused = await svc.api(`/api/apps/${app}/processes/tick/invoke`, { method: 'POST', body: '{}' });
    expect(refused.status).to.equal(409);

    // `* * * * *` is due at the next minute's start; the run uses the image of the last good deploy (v2).
    const tick = await eventually('a scheduled run of tick', async () => {
      const { runs } = (await (await svc.api(`/api/apps/${app}/runs`)).json()) as { runs: { process: string; trigger: string; status: string; exitCode: number; logTail: string; sagaId: string }[] };
      return runs.find((r) => r.process === 'tick' && r.status !== 'running');
    }, 90_000);
    expect(tick).to.include({ trigger: 'schedule', status: 'succeeded', exitCode: 0 });
    expect(tick.logTail).to.contain('tick from v2');
    const events = (await saga(tick.sagaId)).events.map((e) => e.action);
    expect(events).to.deep.equal(['run.start', 'run.complete']);
    // One-off containers are removed once they exit; the service instance is all that runs.
    expect((await appContainers(app)).map((c) => c.Labels['norn.role'])).to.deep.equal(['service']);
  });

  it('keeps the containers when the app leaves the apps dir, and norn teardown stops them', async () => {
    fs.rmSync(path.join(svc.appsDir, app), { recursive: true, force: true });
    await eventually('the app to leave the catalog', async () => ((await svc.api(`/api/apps/${app}`)).status === 404 ? true : undefined));
    const left = await instances();
    expect(left.map((i) => i.state)).to.deep.equal(['running']);
    expect(await answerAt(left[0]!.address!)).to.equal('v2');

    const c = captureIo();
    const person = { isInteractive: false, ask: async () => app };
    expect(await teardownCommandWith({ confirmer: person })([app, '--yes'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io), c.err()).to.equal(0);
    expect(c.out()).to.contain(`stopped and removed 1 container(s) of ${app}`);
    expect(await appContainers(app)).to.deep.equal([]);
    expect(await answerAt(left[0]!.address!)).to.equal(undefined);
  });
});
