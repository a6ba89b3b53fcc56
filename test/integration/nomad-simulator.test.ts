// The Nomad simulator must answer as docs/nomad-api.md says Nomad does, or code tested against it would
// break on a real cluster. These tests speak raw HTTP to it, so they check the wire, not the client.
import { expect } from 'chai';
import type { NomadJob, NomadPlanResponse } from '../../src/integrations/nomad/nomad-types.js';

interface PlanDiff {
  Type: string;
  TaskGroups: { Name: string; Tasks: { Name: string; Fields: unknown[] }[] }[];
}
import { NomadSimulator } from '../support/nomad-simulator.js';
import { nomadCall, shopServiceJob, waitUntil } from '../support/nomad-wire.js';

const S = 1e9;

const serviceJob = (image = 'reg/shop:1', extra: Partial<NomadJob> = {}): NomadJob => shopServiceJob({ image, httpService: true }, extra);

describe('NomadSimulator (the Nomad API test double)', function () {
  this.timeout(10_000);
  let sim: NomadSimulator;

  beforeEach(async () => {
    sim = await NomadSimulator.start({ timeFactor: 0.001 });
  });
  afterEach(() => sim.close());

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => nomadCall(sim.url, method, path, body, headers);
  const register = async (job: NomadJob) => (await call('PUT', '/v1/jobs', { Job: job })).json() as Promise<Record<string, unknown>>;

  it('registers a job: eval and job modify index share the write index, sent as X-Nomad-Index', async () => {
    const res = await call('PUT', '/v1/jobs', { Job: serviceJob() });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).to.include({ Warnings: '', LastContact: 0, KnownLeader: false, NextToken: '' });
    expect(body.EvalID).to.be.a('string').with.length(36);
    expect(body.Index).to.equal(body.JobModifyIndex).and.to.equal(body.EvalCreateIndex);
    expect(res.headers.get('x-nomad-index')).to.equal(String(body.Index));
  });

  it('canonicalizes with the server defaults', async () => {
    await register(serviceJob());
    const job = (await (await call('GET', '/v1/job/shop')).json()) as NomadJob;
    expect(job).to.include({ Namespace: 'default', Region: 'global', Priority: 50, Version: 0, Stable: false });
    const group = job.TaskGroups[0]!;
    expect(group.Update).to.include({ MaxParallel: 1, MinHealthyTime: 30 * S, AutoRevert: true, HealthyDeadline: 300 * S, ProgressDeadline: 600 * S, HealthCheck: 'checks' });
    expect(group.Tasks[0]!.Resources).to.deep.equal({ CPU: 100, MemoryMB: 128 });
  });

  it('answers errors in plain text with Nomad\'s status codes', async () => {
    const notFound = await call('GET', '/v1/job/nope');
    expect(notFound.status).to.equal(404);
    expect(notFound.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(await notFound.text()).to.equal('job not found');
    expect(notFound.headers.get('x-nomad-index')).to.match(/^\d+$/);

    expect([(await call('GET', '/v1/deployment/x')).status, await (await call('GET', '/v1/deployment/x')).text()]).to.deep.equal([404, 'deployment not found']);
    expect(await (await call('GET', '/v1/evaluation/x')).text()).to.equal('eval not found');
    expect(await (await call('GET', '/v1/allocation/x')).text()).to.equal('alloc not found');

    const wrongMethod = await call('DELETE', '/v1/jobs');
    expect([wrongMethod.status, await wrongMethod.text()]).to.deep.equal([405, 'Invalid method']);
    const unknown = await call('GET', '/v1/nothing');
    expect([unknown.status, await unknown.text()]).to.deep.equal([404, '']);

    expect(await (await call('PUT', '/v1/jobs', {})).text()).to.equal('Job must be specified');
    const badJson = await fetch(`${sim.url}/v1/jobs`, { method: 'PUT', body: '{"Job":' });
    expect(badJson.status).to.equal(400);
    const mismatch = await call('PUT', '/v1/job/other', { Job: serviceJob() });
    expect([mismatch.status, await mismatch.text()]).to.deep.equal([400, 'Job ID does not match name']);
  });

  it('rejects an invalid job with 500 and a go-multierror body', async () => {
    const job = serviceJob();
    job.TaskGroups[0]!.Tasks[0]!.VolumeMounts = [{ Volume: 'v', Destination: '/v', ReadOnly: false }];
    const res = await call('PUT', '/v1/jobs', { Job: job });
    expect(res.status).to.equal(500);
    expect(await res.text()).to.match(/^1 error occurred:\n\t\* Task group web validation failed: .*Volume Mount \(0\) references undefined volume v/s);

    const periodicService = serviceJob('x', { Periodic: { Enabled: true, SpecType: 'cron', Spec: '@daily' } });
    expect(await (await call('PUT', '/v1/jobs', { Job: periodicService })).text()).to.include('Periodic can only be used with "batch" or "sysbatch" scheduler');
  });

  it('keeps JobModifyIndex and creates no deployment when the spec is unchanged', async () => {
    const first = await register(serviceJob());
    await waitUntil('the first deployment', () => sim.deployments('shop').length === 1);
    const second = await register(serviceJob());
    expect(second.JobModifyIndex).to.equal(first.JobModifyIndex);
    expect(second.EvalID).to.not.equal(first.EvalID);
    let evaluation = { Status: 'pending', ModifyIndex: 0, DeploymentID: '' };
    while (evaluation.Status === 'pending') {
      evaluation = (await (await call('GET', `/v1/evaluation/${second.EvalID}?index=${evaluation.ModifyIndex}&wait=1s`)).json()) as typeof evaluation;
    }
    expect(evaluation).to.include({ Status: 'complete', DeploymentID: '' });
    expect(sim.jobVersions('shop')).to.have.length(1);
    expect(sim.deployments('shop')).to.have.length(1);
  });

  it('registers a periodic job without an evaluation', async () => {
    const job: NomadJob = { ...serviceJob(), ID: 'shop-nightly', Name: 'shop-nightly', Type: 'batch', Periodic: { Enabled: true, SpecType: 'cron', Spec: '0 3 * * *', TimeZone: 'Europe/Berlin' } };
    job.TaskGroups[0]!.Update = null;
    const body = await register(job);
    expect(body).to.include({ EvalID: '', EvalCreateIndex: 0 });
    expect(sim.job('shop-nightly')!.Periodic).to.include({ TimeZone: 'Europe/Berlin', ProhibitOverlap: false });
  });

  it('blocks a read until the index passes, and answers the same index when the wait expires', async () => {
    await sim.close();
    sim = await NomadSimulator.start({ timeFactor: 0.001, stepMs: 150 }); // time to read before the scheduler runs
    const reg = await register(serviceJob());
    const res = await call('GET', '/v1/job/shop/deployment');
    expect(await res.json()).to.equal(null); // before the scheduler ran: no deployment yet
    const index = Number(res.headers.get('x-nomad-index'));

    const started = Date.now();
    const blocked = await call('GET', `/v1/job/shop/deployment?index=${index}&wait=5s`);
    expect(Number(blocked.headers.get('x-nomad-index'))).to.be.greaterThan(index);
    expect(await blocked.json()).to.include({ JobID: 'shop', JobModifyIndex: reg.JobModifyIndex });
    expect(Date.now() - started).to.be.lessThan(2000);

    const allocs = await call('GET', '/v1/job/shop/allocations');
    await waitUntil('a successful deployment', () => sim.deployments('shop')[0]?.Status === 'successful');
    await new Promise((r) => setTimeout(r, 50));
    const idle = await call('GET', '/v1/job/shop/allocations');
    const idleIndex = idle.headers.get('x-nomad-index')!;
    const t0 = Date.now();
    const expired = await call('GET', `/v1/job/shop/allocations?index=${idleIndex}&wait=150ms`);
    expect(Date.now() - t0).to.be.within(140, 1000);
    expect([expired.status, expired.headers.get('x-nomad-index')]).to.deep.equal([200, idleIndex]);
    expect(allocs.headers.get('x-nomad-lastcontact')).to.equal('0');
    expect(allocs.headers.get('x-nomad-knownleader')).to.equal('true');
  });

  /** A version 0 running, then version 1 registered with canaries; resolves once its canary is healthy. */
  async function canaryRollout(update: Record<string, unknown>) {
    const canaryJob = (image: string) => {
      const job = serviceJob(image);
      job.TaskGroups[0]!.Update = { MaxParallel: 1, MinHealthyTime: 30 * S, AutoRevert: false, Canary: 1, ...update };
      return job;
    };
    await register(canaryJob('reg/shop:1'));
    await waitUntil('version 0 to be deployed', () => sim.deployments('shop')[0]?.Status === 'successful');
    await register(canaryJob('reg/shop:2'));
    await waitUntil('a healthy canary', () => (sim.deployments('shop')[1]?.TaskGroups.web?.HealthyAllocs ?? 0) >= 1);
    return sim.deployments('shop')[1]!;
  }

  it('places canaries beside the old allocations and waits for promotion; POST /v1/deployment/promote rolls out the rest', async () => {
    const d = await canaryRollout({});
    expect(d.TaskGroups.web).to.include({ DesiredCanaries: 1, Promoted: false });
    expect(d.TaskGroups.web!.PlacedCanaries).to.have.length(1);
    expect(sim.allocations('shop').filter((a) => a.DesiredStatus === 'run').map((a) => a.JobVersion).sort()).to.deep.equal([0, 1]);
    // Past the progress deadline (10m, scaled to 600ms): healthy canaries waiting for promotion are not failed by it.
    await new Promise((r) => setTimeout(r, 900));
    expect(sim.deployments('shop')[1]!.Status, 'no promotion, no progress, no failure').to.equal('running');
    const res = await call('POST', `/v1/deployment/promote/${d.ID}`, { DeploymentID: d.ID, All: true });
    expect(res.status).to.equal(200);
    await waitUntil('the rollout to finish', () => sim.deployments('shop')[1]!.Status === 'successful');
    expect(sim.allocations('shop').filter((a) => a.DesiredStatus === 'run').map((a) => a.JobVersion)).to.deep.equal([1]);
  });

  it('promotes by itself with AutoPromote once every canary is healthy', async () => {
    await canaryRollout({ AutoPromote: true });
    await waitUntil('the rollout to finish', () => sim.deployments('shop')[1]!.Status === 'successful');
    expect(sim.deployments('shop')[1]!.TaskGroups.web).to.include({ Promoted: true });
  });

  it('POST /v1/deployment/fail stops the unpromoted canaries and keeps the old allocations; a second fail is refused', async () => {
    const d = await canaryRollout({});
    const res = await call('POST', `/v1/deployment/fail/${d.ID}`, { DeploymentID: d.ID });
    expect(await res.json()).to.include({ RevertedJobVersion: null });
    expect(sim.deployments('shop')[1]).to.include({ Status: 'failed', StatusDescription: 'Deployment marked as failed' });
    const canary = sim.allocations('shop').find((a) => a.ID === d.TaskGroups.web!.PlacedCanaries![0])!;
    expect(canary).to.include({ DesiredStatus: 'stop', DesiredDescription: 'alloc not needed due to job update' });
    expect(sim.allocations('shop').filter((a) => a.DesiredStatus === 'run').map((a) => a.JobVersion)).to.deep.equal([0]);
    const again = await call('POST', `/v1/deployment/fail/${d.ID}`, { DeploymentID: d.ID });
    expect([again.status, await again.text()]).to.deep.equal([500, "can't fail terminal deployment: deployment status failed"]);
  });

  it('rejects a bad index or wait with 400', async () => {
    expect(await (await call('GET', '/v1/job/shop/allocations?index=abc')).text()).to.equal('Invalid index');
    expect(await (await call('GET', '/v1/job/shop/allocations?index=1&wait=soon')).text()).to.equal('Invalid wait time');
  });

  it('moves an allocation from pending to running to healthy, and the deployment to successful', async () => {
    await register(serviceJob());
    await waitUntil('a successful deployment', () => sim.deployments('shop')[0]?.Status === 'successful');
    const [alloc] = sim.allocations('shop');
    expect(alloc).to.include({ ClientStatus: 'running', DesiredStatus: 'run', Name: 'shop.web[0]', JobVersion: 0 });
    expect(alloc!.DeploymentStatus).to.include({ Healthy: true, Canary: false });
    expect(alloc!.TaskStates!.web!.Events!.map((e) => e.Type)).to.deep.equal(['Received', 'Task Setup', 'Driver', 'Started']);
    const stub = (await (await call('GET', '/v1/job/shop/allocations')).json()) as Record<string, unknown>[];
    expect(stub[0]).to.not.have.property('DeploymentID');
    expect(sim.deployments('shop')[0]!.TaskGroups.web).to.include({ DesiredTotal: 1, PlacedAllocs: 1, HealthyAllocs: 1, UnhealthyAllocs: 0 });
    expect(sim.job('shop')).to.include({ Stable: true, Status: 'running' });
  });

  it('auto-reverts a failed deployment to the latest stable version', async () => {
    await register(serviceJob('reg/shop:1'));
    await waitUntil('v0 successful', () => sim.deployments('shop')[0]?.Status === 'successful');
    sim.setScenario({ image: 'reg/shop:2' }, 'crash');
    await register(serviceJob('reg/shop:2'));
    await waitUntil('the rollback deployment', () => sim.deployments('shop').length === 3);
    const [, failed, rollback] = sim.deployments('shop');
    expect(failed).to.include({ Status: 'failed', StatusDescription: 'Failed due to progress deadline - rolling back to job version 0' });
    expect(rollback).to.include({ JobVersion: 2 });
    expect(sim.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal('reg/shop:1');
    await waitUntil('the rollback to succeed', () => sim.deployments('shop')[2]!.Status === 'successful');
  });

  it('fails a deployment on unhealthy allocations when no reschedule attempt remains', async () => {
    sim.setScenario({ jobId: 'shop' }, 'never-healthy');
    const job = serviceJob();
    job.TaskGroups[0]!.ReschedulePolicy = { Attempts: 0, Unlimited: false };
    await register(job);
    await waitUntil('a failed deployment', () => sim.deployments('shop')[0]?.Status === 'failed');
    expect(sim.deployments('shop')[0]!.StatusDescription).to.equal('Failed due to unhealthy allocations - no stable job version to auto revert to');
  });

  it('needs the ACL token when configured, except for the leader', async () => {
    await sim.close();
    sim = await NomadSimulator.start({ token: 'root-secret' });
    expect([(await call('GET', '/v1/job/shop')).status, await (await call('GET', '/v1/job/shop')).text()]).to.deep.equal([403, 'Permission denied']);
    expect((await call('GET', '/v1/job/shop', undefined, { 'X-Nomad-Token': 'wrong' })).status).to.equal(403);
    expect(await (await call('GET', '/v1/agent/self', undefined, { 'X-Nomad-Token': 'wrong' })).text()).to.equal('ACL token not found');
    expect((await call('GET', '/v1/job/shop', undefined, { 'X-Nomad-Token': 'root-secret' })).status).to.equal(404);
    expect((await call('GET', '/v1/job/shop', undefined, { Authorization: 'Bearer root-secret' })).status).to.equal(404);
    expect(await (await call('GET', '/v1/status/leader')).json()).to.equal('127.0.0.1:4647');
  });

  it('keeps jobs apart by namespace, from the query or the job', async () => {
    await call('PUT', '/v1/jobs?namespace=apps', { Job: serviceJob() });
    expect((await call('GET', '/v1/job/shop')).status).to.equal(404);
    expect((await call('GET', '/v1/job/shop?namespace=apps')).status).to.equal(200);
    await register(serviceJob('x', { Namespace: 'team' }));
    expect(sim.job('shop', 'team')).to.include({ Namespace: 'team' });
    expect((await call('GET', '/v1/job/shop?region=mars')).status).to.equal(500);
  });

  it('plans: counts placements and diffs against the registered version', async () => {
    const added = (await (await call('PUT', '/v1/job/shop/plan', { Job: serviceJob(), Diff: true })).json()) as NomadPlanResponse & { Diff: PlanDiff };
    expect(added.Diff.Type).to.equal('Added');
    expect(added.Annotations!.DesiredTGUpdates!.web).to.include({ Place: 1 });
    await register(serviceJob('reg/shop:1'));
    await waitUntil('v0 successful', () => sim.deployments('shop')[0]?.Status === 'successful');
    const same = (await (await call('PUT', '/v1/job/shop/plan', { Job: serviceJob('reg/shop:1'), Diff: true })).json()) as NomadPlanResponse & { Diff: PlanDiff };
    expect(same.Diff.Type).to.equal('None');
    expect(same.Annotations!.DesiredTGUpdates!.web).to.include({ Ignore: 1, Place: 0 });
    const edited = (await (await call('PUT', '/v1/job/shop/plan', { Job: serviceJob('reg/shop:2'), Diff: true })).json()) as NomadPlanResponse & { Diff: PlanDiff };
    expect(edited.Diff.Type).to.equal('Edited');
    expect(edited.Diff.TaskGroups[0]!.Tasks[0]!.Fields).to.deep.include({ Type: 'Edited', Name: 'Config.image', Old: 'reg/shop:1', New: 'reg/shop:2', Annotations: null });
    expect(edited.Annotations!.DesiredTGUpdates!.web).to.include({ DestructiveUpdate: 1 });
    expect(sim.jobVersions('shop')).to.have.length(1);
  });
});
