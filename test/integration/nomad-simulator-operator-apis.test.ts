// The Nomad simulator's job scale, allocation restart and alloc logs endpoints must answer as docs/nomad-api.md
// section 7 says Nomad does, or `norn scale/restart/logs` tested against it would break on a real cluster. Raw HTTP.
import { expect } from 'chai';
import type { NomadAllocation, NomadJob } from '../../src/integrations/nomad/nomad-types.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { nomadCall, shopServiceJob, waitUntil } from '../support/nomad-wire.js';
import { expectSubsequence } from '../support/subsequence.js';

const serviceJob = (count = 1): NomadJob => shopServiceJob({ count });

describe('NomadSimulator: scale, allocation restart and alloc logs', function () {
  this.timeout(10_000);
  let sim: NomadSimulator;

  beforeEach(async () => {
    sim = await NomadSimulator.start({ timeFactor: 0.001 });
  });
  afterEach(() => sim.close());

  const call = (method: string, path: string, body?: unknown) => nomadCall(sim.url, method, path, body);
  const live = (): NomadAllocation[] => sim.allocations('shop').filter((a) => a.DesiredStatus === 'run' && a.ClientStatus === 'running');
  const deployed = async (count = 1) => {
    await call('PUT', '/v1/jobs', { Job: serviceJob(count) });
    await waitUntil('the deployment to succeed', () => sim.deployments('shop').at(-1)?.Status === 'successful');
  };

  it('scales a group: a new version, running allocations kept in place, the missing ones under a deployment', async () => {
    await deployed();
    const [first] = live();
    const res = await call('POST', '/v1/job/shop/scale', { Count: 3, Target: { Group: 'web' }, Message: 'load', PolicyOverride: false });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { EvalID: string; JobModifyIndex: number; Index: number };
    expect(body.EvalID).to.have.length(36);
    expect(body.JobModifyIndex).to.equal(body.Index);
    expect(sim.job('shop')).to.include({ Version: 1 });
    expect(sim.job('shop')!.TaskGroups[0]!.Count).to.equal(3);
    await waitUntil('three healthy allocations', () => live().filter((a) => a.DeploymentStatus?.Healthy).length === 3);
    expect(live().map((a) => a.ID)).to.include(first!.ID);
    expect(live().every((a) => a.JobVersion === 1)).to.equal(true);
    await waitUntil('the scaled version to be stable', () => sim.job('shop')!.Stable === true);

    await call('POST', '/v1/job/shop/scale', { Count: 1, Target: { Group: 'web' } });
    await waitUntil('one allocation left', () => live().length === 1);
    expect(live()[0]!.Name).to.equal('shop.web[0]');
  });

  it('refuses a scale without a group, with an unknown group, a negative count or an unknown job', async () => {
    await deployed();
    const cases: [unknown, number, string][] = [
      [{ Count: 2, Target: {} }, 400, 'missing task group name for scaling action'],
      [{ Count: 2, Target: { Group: 'api' } }, 400, 'task group "api" specified for scaling does not exist in job'],
      [{ Count: -1, Target: { Group: 'web' } }, 400, "scaling action count can't be negative"],
    ];
    for (const [body, status, text] of cases) {
      const res = await call('POST', '/v1/job/shop/scale', body);
      expect([res.status, await res.text()]).to.deep.equal([status, text]);
    }
    const unknown = await call('POST', '/v1/job/nope/scale', { Count: 1, Target: { Group: 'web' } });
    expect([unknown.status, await unknown.text()]).to.deep.equal([404, 'job not found']);
  });

  it('restarts an allocation in place: Restart Signaled, Terminated, Restarting, Started, Restarts 1', async () => {
    await deployed();
    const [alloc] = live();
    const res = await call('POST', `/v1/client/allocation/${alloc!.ID}/restart`, {});
    expect([res.status, await res.json()]).to.deep.equal([200, {}]);
    await waitUntil('the task to start again', () => sim.allocations('shop').find((a) => a.ID === alloc!.ID)!.TaskStates!.web!.Restarts === 1 && live().length === 1);
    const state = sim.allocations('shop').find((a) => a.ID === alloc!.ID)!.TaskStates!.web!;
    const types = state.Events!.map((e) => e.Type);
    expectSubsequence(types.slice(types.indexOf('Restart Signaled')), ['Restart Signaled', 'Terminated', 'Restarting', 'Started']);
    expect(types.at(-1)).to.equal('Started');
    expect(state.LastRestart).to.be.a('string');

    expect((await call('POST', '/v1/client/allocation/00000000-0000-0000-0000-000000000000/restart', {})).status).to.equal(404);
    const badTask = await call('POST', `/v1/client/allocation/${alloc!.ID}/restart`, { TaskName: 'db' });
    expect([badTask.status, await badTask.text()]).to.deep.equal([400, 'Could not find task named: db']);
  });

  it('serves a task log as raw bytes or JSON frames, from the start or the end, and checks its parameters', async () => {
    await deployed();
    const [alloc] = live();
    sim.writeLog(alloc!.ID, 'web', 'stdout', 'one\ntwo\n');
    const base = `/v1/client/fs/logs/${alloc!.ID}?task=web&type=stdout`;
    const all = await (await call('GET', `${base}&plain=true`)).text();
    expect(all).to.match(/^web started \(image reg\/shop:1\)\none\ntwo\n$/);
    expect(await (await call('GET', `${base}&plain=true&origin=end&offset=4`)).text()).to.equal('two\n');
    const framed = (await (await call('GET', `${base}&origin=end&offset=8`)).json()) as { Data: string; File: string; Offset: number };
    expect(framed).to.deep.equal({ Data: Buffer.from('one\ntwo\n').toString('base64'), File: 'alloc/logs/web.stdout.0', Offset: Buffer.byteLength(all) });

    for (const [query, text] of [
      ['type=stdout', 'must provide task name'],
      ['task=web&type=stdlog', 'must provide log type (stdout/stderr)'],
      ['task=web&type=stdout&origin=middle', 'origin must be start or end'],
    ]) {
      const res = await call('GET', `/v1/client/fs/logs/${alloc!.ID}?${query}`);
      expect([res.status, await res.text()]).to.deep.equal([400, text]);
    }
    expect((await call('GET', `/v1/client/fs/logs/nope?task=web&type=stdout`)).status).to.equal(404);
  });

  it('follows a log until the allocation stops, and forgets a follower that went away', async () => {
    await deployed();
    const [alloc] = live();
    const abort = new AbortController();
    const res = await fetch(`${sim.url}/v1/client/fs/logs/${alloc!.ID}?task=web&type=stderr&follow=true&plain=true`, { signal: abort.signal });
    const reader = res.body!.getReader();
    await waitUntil('a follower', () => sim.logFollowers(alloc!.ID, 'web', 'stderr') === 1);
    sim.writeLog(alloc!.ID, 'web', 'stderr', 'late line\n');
    expect(new TextDecoder().decode((await reader.read()).value)).to.equal('late line\n');
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await waitUntil('no follower', () => sim.logFollowers(alloc!.ID, 'web', 'stderr') === 0);

    const following = await fetch(`${sim.url}/v1/client/fs/logs/${alloc!.ID}?task=web&type=stderr&follow=true&plain=true&origin=end&offset=0`);
    const ended = following.text();
    await call('DELETE', '/v1/job/shop');
    expect(await ended, 'the answer ends when the allocation stops').to.equal('');
  });
});
