// Periodic force, dispatch and the job list on the Nomad simulator, spoken to with raw HTTP (the wire Nomad's
// docs and source describe: docs/nomad-api.md), then the runtime code that uses them (NomadBatchJobs).
import { expect } from 'chai';
import { pino } from 'pino';
import { InvalidInputError } from '../../src/errors.js';
import { NomadClient } from '../../src/integrations/nomad/nomad-client.js';
import type { NomadJob } from '../../src/integrations/nomad/nomad-types.js';
import { NomadBatchJobs } from '../../src/runtime/nomad-batch-jobs.js';
import { NomadSimulator } from '../support/nomad-simulator.js';

function batchJob(id: string, extra: Partial<NomadJob>): NomadJob {
  return {
    ID: id,
    Name: id,
    Type: 'batch',
    Datacenters: ['dc1'],
    TaskGroups: [{ Name: 'run', Count: 1, Tasks: [{ Name: 'run', Driver: 'docker', Config: { image: 'reg/shop:1' }, Resources: { CPU: 100, MemoryMB: 64 } }] }],
    ...extra,
  };
}

const periodic = (id: string, enabled = true) => batchJob(id, { Periodic: { Enabled: enabled, SpecType: 'cron', Spec: '0 3 * * *' } });
const parameterized = (id: string) => batchJob(id, { ParameterizedJob: { Payload: 'optional' } });

describe('Nomad simulator: periodic force, dispatch and the job list', function () {
  this.timeout(20_000);
  let sim: NomadSimulator;
  let nomad: NomadClient;
  let jobs: NomadBatchJobs;

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${sim.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const register = async (job: NomadJob) => expect((await call('POST', '/v1/jobs', { Job: job })).status).to.equal(200);

  beforeEach(async () => {
    sim = await NomadSimulator.start({ timeFactor: 0.001 });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
    jobs = new NomadBatchJobs({ nomad, pollWaitMs: 1000 });
  });
  afterEach(async () => sim.close());

  it('answers periodic force and dispatch errors as Nomad does (plain text, 500 for RPC errors, 400 for bad JSON)', async () => {
    await register(periodic('shop-off', false));
    await register(parameterized('shop-fn'));
    await register(batchJob('shop-plain', {}));
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/job/nope/periodic/force', undefined, 500, 'job not found'],
      ['POST', '/v1/job/shop-plain/periodic/force', undefined, 500, "can't force launch non-periodic job"],
      ['POST', '/v1/job/shop-off/periodic/force', undefined, 500, 'force launch for job "shop-off" failed: can\'t force run non-tracked job "shop-off" (default)'],
      ['POST', '/v1/job/nope/dispatch', {}, 500, 'parameterized job not found'],
      ['POST', '/v1/job/shop-plain/dispatch', {}, 500, 'Specified job "shop-plain" is not a parameterized job'],
      ['POST', '/v1/job/shop-fn/dispatch', { Payload: Buffer.alloc(16 * 1024 + 1).toString('base64') }, 500, 'Payload exceeds maximum size; 16385 > 16384'],
      ['POST', '/v1/job/shop-fn/dispatch', { Meta: { who: 'x' } }, 500, 'Dispatch request included unpermitted metadata keys: [who]'],
      ['POST', '/v1/job/shop-fn/dispatch', { Payload: 'not base64!' }, 400, 'illegal base64 data at input byte 0'],
      ['POST', '/v1/job/shop-fn/dispatch', { JobID: 'other' }, 400, 'Job ID does not match'],
    ];
    for (const [method, path, body, status, text] of cases) {
      const res = await call(method, path, body);
      expect(res.status, path).to.equal(status);
      expect(res.headers.get('content-type'), path).to.match(/^text\/plain/);
      expect(await res.text(), path).to.equal(text);
    }
  });

  it('launches a child per force and per dispatch, runs it once, and lists children by prefix', async () => {
    await register(periodic('shop-tick'));
    await register(parameterized('shop-fn'));
    const forced = (await (await call('POST', '/v1/job/shop-tick/periodic/force')).json()) as { EvalID: string; EvalCreateIndex: number };
    expect(forced.EvalID).to.match(/^[0-9a-f-]{36}$/);
    const evaluation = (await (await call('GET', `/v1/evaluation/${forced.EvalID}`)).json()) as { JobID: string; TriggeredBy: string };
    expect(evaluation).to.include({ TriggeredBy: 'periodic-job' });
    expect(evaluation.JobID).to.match(/^shop-tick\/periodic-\d+$/);

    const dispatched = (await (await call('POST', '/v1/job/shop-fn/dispatch', { Payload: Buffer.from('hi').toString('base64') })).json()) as Record<string, unknown>;
    expect(Object.keys(dispatched).sort()).to.deep.equal(['DispatchedJobID', 'EvalCreateIndex', 'EvalID', 'Index', 'JobCreateIndex']);
    expect(dispatched.DispatchedJobID).to.match(/^shop-fn\/dispatch-\d+-[0-9a-f]{8}$/);

    const list = (await (await call('GET', '/v1/jobs?prefix=shop-tick/')).json()) as { ID: string; ParentID: string; Periodic: boolean; SubmitTime: number }[];
    expect(list.map((j) => j.ID)).to.deep.equal([evaluation.JobID]);
    expect(list[0]).to.include({ ParentID: 'shop-tick', Periodic: false });
    const parents = (await (await call('GET', '/v1/jobs?prefix=shop-')).json()) as { ID: string; Periodic: boolean; ParameterizedJob: boolean }[];
    expect(parents.find((j) => j.ID === 'shop-tick')).to.include({ Periodic: true });
    expect(parents.find((j) => j.ID === 'shop-fn')).to.include({ ParameterizedJob: true });

    // Each child runs once to completion; the parents never get allocations.
    const end = await jobs.waitForEnd(evaluation.JobID, { timeoutMs: 5000 });
    expect(end).to.include({ status: 'succeeded', exitCode: 0, timedOut: false });
    expect(sim.allocations('shop-tick')).to.deep.equal([]);
    expect(sim.allocations('shop-fn')).to.deep.equal([]);
    expect(sim.job(evaluation.JobID)!.Status).to.equal('dead');
  });

  it('NomadBatchJobs: run now names the child, pause flips Periodic.Enabled only, and says when there is nothing to flip', async () => {
    expect(await jobs.setPaused('shop', 'tick', true)).to.equal('not registered');
    await register(periodic('shop-tick'));
    const child = await jobs.runNow('shop', 'tick');
    expect(child).to.match(/^shop-tick\/periodic-\d+$/);

    expect(await jobs.setPaused('shop', 'tick', true)).to.equal('changed');
    const job = sim.job('shop-tick')!;
    expect(job.Periodic).to.include({ Enabled: false, Spec: '0 3 * * *' });
    expect(job.TaskGroups[0]!.Tasks[0]!.Config).to.deep.equal({ image: 'reg/shop:1' });
    expect(await jobs.setPaused('shop', 'tick', true)).to.equal('unchanged');
    const refused = await jobs.runNow('shop', 'tick').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(InvalidInputError);
    expect((refused as Error).message).to.contain('is disabled in Nomad (paused)');

    await call('DELETE', '/v1/job/shop-tick');
    expect(await jobs.setPaused('shop', 'tick', false)).to.equal('stopped');
    expect(sim.job('shop-tick')!.Stop).to.equal(true);
  });

  it('NomadBatchJobs: a dispatched run past its timeout is stopped and reported as timed out', async () => {
    await sim.close();
    // Slow steps: the child is still being placed when the 50 ms limit passes.
    sim = await NomadSimulator.start({ timeFactor: 0.001, stepMs: 2000 });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
    jobs = new NomadBatchJobs({ nomad, pollWaitMs: 20 });
    await register(parameterized('shop-slow'));
    const child = await jobs.dispatch('shop', 'slow', new Uint8Array([1, 2, 3]));
    const end = await jobs.waitForEnd(child, { timeoutMs: 50 });
    expect(end).to.include({ status: 'failed', timedOut: true, exitCode: null });
    expect(sim.job(child)!.Stop).to.equal(true);
  });

  it('NomadBatchJobs: history lists the children newest first with exit codes, not those of a longer job id', async () => {
    await register(parameterized('shop-fn'));
    await register(parameterized('shop-fn-2'));
    const first = await jobs.dispatch('shop', 'fn', undefined);
    await jobs.waitForEnd(first, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // child ids carry whole seconds
    const second = await jobs.dispatch('shop', 'fn', undefined);
    await jobs.waitForEnd(second, { timeoutMs: 5000 });
    await jobs.dispatch('shop', 'fn-2', undefined);
    const history = await jobs.history('shop', 'fn', 10);
    expect(history.map((h) => h.nomadJobId)).to.deep.equal([second, first]);
    expect(history.every((h) => h.status === 'succeeded' && h.exitCode === 0 && h.allocationId)).to.equal(true);
  });
});
