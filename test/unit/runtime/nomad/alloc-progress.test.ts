import { expect } from 'chai';
import { type AllocChange, AllocTracker, allocPhase, explainAlloc } from '../../../../src/runtime/nomad/alloc-progress.js';
import type { NomadAllocationStub, NomadTaskEvent } from '../../../../src/integrations/nomad/nomad-types.js';

let time = 1;
const event = (Type: string, DisplayMessage: string, Details: Record<string, string> = {}): NomadTaskEvent => ({ Type, Time: time++, DisplayMessage, Details });

function alloc(over: Partial<NomadAllocationStub> = {}, events: NomadTaskEvent[] = [], restarts = 0): NomadAllocationStub {
  return {
    ID: 'a1b2c3d4-0000',
    EvalID: 'e',
    Name: 'shop.web[0]',
    Namespace: 'default',
    NodeID: 'n',
    NodeName: 'n',
    JobID: 'shop',
    JobType: 'service',
    JobVersion: 3,
    TaskGroup: 'web',
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'pending',
    ClientDescription: '',
    TaskStates: { web: { State: 'pending', Failed: false, Restarts: restarts, LastRestart: null, StartedAt: null, FinishedAt: null, Events: events } },
    DeploymentStatus: null,
    FollowupEvalID: '',
    NextAllocation: '',
    CreateIndex: 10,
    ModifyIndex: 10,
    CreateTime: 0,
    ModifyTime: 0,
    ...over,
  };
}

const health = (Healthy: boolean | null) => ({ Healthy, Timestamp: null, Canary: false, ModifyIndex: 1 });

describe('allocation progress', () => {
  it('names the phase a person cares about', () => {
    expect(allocPhase(alloc())).to.equal('placed');
    expect(allocPhase(alloc({}, [], 2))).to.equal('restarting');
    expect(allocPhase(alloc({ ClientStatus: 'running' }))).to.equal('running');
    expect(allocPhase(alloc({ ClientStatus: 'running', DeploymentStatus: health(null) }))).to.equal('running');
    expect(allocPhase(alloc({ ClientStatus: 'running', DeploymentStatus: health(true) }))).to.equal('healthy');
    expect(allocPhase(alloc({ ClientStatus: 'running', DeploymentStatus: health(false) }))).to.equal('unhealthy');
    expect(allocPhase(alloc({ ClientStatus: 'failed', DeploymentStatus: health(false) }))).to.equal('failed');
    expect(allocPhase(alloc({ DesiredStatus: 'stop', ClientStatus: 'complete', DeploymentStatus: health(true) }))).to.equal('stopped');
  });

  it('explains with the latest event, ignoring the kill that followed, and the last exit', () => {
    const a = alloc({}, [
      event('Started', 'Task started by client'),
      event('Terminated', 'Exit Code: 1', { exit_code: '1' }),
      event('Restarting', 'Task restarting in 15s'),
      event('Alloc Unhealthy', 'Task not running by healthy_deadline of 5m0s'),
      event('Killing', 'Sent interrupt'),
      event('Killed', 'Task successfully killed'),
    ]);
    expect(explainAlloc(a)).to.equal('Alloc Unhealthy: Task not running by healthy_deadline of 5m0s (last Terminated: Exit Code: 1)');
  });

  it('calls out an OOM kill and an image pull the task never got past', () => {
    const oom = alloc({}, [event('Terminated', 'Exit Code: 137', { oom_killed: 'true' })]);
    expect(explainAlloc(oom)).to.equal('Terminated: OOM killed (Exit Code: 137)');
    const pull = alloc({}, [event('Driver', 'Downloading image reg/x:1'), event('Alloc Unhealthy', 'Task not running by healthy_deadline of 5m0s')]);
    expect(explainAlloc(pull)).to.include('(last Driver: Downloading image reg/x:1)');
    const pulled = alloc({}, [event('Driver', 'Downloading image'), event('Started', 'Task started by client'), event('Alloc Unhealthy', 'Services not healthy by deadline: shop-web')]);
    expect(explainAlloc(pulled)).to.equal('Alloc Unhealthy: Services not healthy by deadline: shop-web');
  });

  it('reports each allocation once per phase change', () => {
    const changes: AllocChange[] = [];
    const tracker = new AllocTracker((c) => changes.push(c));
    tracker.update([alloc()]);
    tracker.update([alloc()]);
    tracker.update([alloc({ ClientStatus: 'running' }, [event('Started', 'Task started by client')])]);
    tracker.update([alloc({ ClientStatus: 'running', DeploymentStatus: health(true) })]);
    expect(changes.map((c) => c.phase)).to.deep.equal(['placed', 'running', 'healthy']);
    expect(changes[1]).to.deep.equal({ allocId: 'a1b2c3d4-0000', name: 'shop.web[0]', taskGroup: 'web', jobVersion: 3, phase: 'running', event: 'Started: Task started by client' });
  });
});
