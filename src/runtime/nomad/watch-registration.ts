// Decides whether a registration became healthy, the way `nomad job run` does (NOMAD_API.md section 5): follow
// the evaluation to the deployment it created, then that deployment with blocking queries until it is successful
// (pass) or failed, cancelled or past our deadline (fail). An unchanged job gets no deployment; it passes once its
// current allocations are healthy. Allocation changes are passed to `onAllocChange` as they happen.
import { UpstreamError } from '../../errors.js';
import { AllocTracker, type AllocChange, allocPhase, explainAlloc } from './alloc-progress.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadAllocationMetric, NomadAllocationStub, NomadDeployment, NomadEvaluation, NomadJob } from '../../integrations/nomad/nomad-types.js';

export interface WatchConfig {
  /** Longest server-side wait of one blocking query. */
  blockingWaitMs: number;
  /** Pause before retrying a call that failed with a network error or a 5xx. */
  retryDelayMs: number;
  /** Failed calls in a row tolerated before giving up. */
  maxRetries: number;
}

export type WatchNomad = Pick<
  NomadClient,
  'readEvaluation' | 'readDeployment' | 'deploymentAllocations' | 'jobAllocations' | 'readJob' | 'latestDeployment' | 'promoteDeployment' | 'failDeployment'
>;

export interface WatchDeps {
  nomad: WatchNomad;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  now(): number;
}

export interface WatchRequest {
  jobId: string;
  evalId: string;
  /** Epoch ms after which the watch gives up. */
  deadline: number;
  signal: AbortSignal;
  onAllocChange(change: AllocChange): void;
  /** Something a person should know: an auto-revert. */
  onNote(message: string): void;
  /** Who decides about canaries (pipeline/steps/canary-gate.ts); without it they wait for an operator. */
  canaries?: CanaryPolicy;
}

/** Shown every read of the deployment until it fails; `wakeInMs` bounds the next blocking query so a timed decision is on time. */
export interface CanaryPolicy {
  review(d: NomadDeployment, signal: AbortSignal): Promise<{ wakeInMs?: number }>;
  /** The deadline came with the deployment still running. */
  atDeadline(d: NomadDeployment, signal: AbortSignal): Promise<void>;
  /** Why the deployment failed when an operator failed its canaries; undefined otherwise. */
  operatorFailure(d: NomadDeployment): string | undefined;
}

export type WatchOutcome =
  | { ok: true; deploymentId?: string; summary: string }
  | {
      ok: false;
      reason: string;
      timedOut: boolean;
      deployment?: NomadDeployment;
      taskGroup?: string;
      allocId?: string;
      /** Set when Nomad auto-reverted: the job version it registered for the rollback. */
      revertedJobVersion?: number;
    };

type Failure = Extract<WatchOutcome, { ok: false }>;

export async function watchRegistration(config: WatchConfig, deps: WatchDeps, req: WatchRequest): Promise<WatchOutcome> {
  return new Watch(config, deps, req).run();
}

class Watch {
  private readonly tracker: AllocTracker;

  constructor(
    private readonly config: WatchConfig,
    private readonly deps: WatchDeps,
    private readonly req: WatchRequest,
  ) {
    this.tracker = new AllocTracker(req.onAllocChange);
  }

  async run(): Promise<WatchOutcome> {
    const evaluation = await this.followEvaluation(this.req.evalId);
    if (!evaluation) return this.timeout('the evaluation was still pending');
    if (evaluation.Status !== 'complete') {
      return { ok: false, timedOut: false, reason: `evaluation ${short(evaluation.ID)} ${evaluation.Status}: ${evaluation.StatusDescription || 'no reason given'}` };
    }
    const failed = Object.entries(evaluation.FailedTGAllocs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    if (failed.length > 0) {
      const [group, metric] = failed[0]!;
      return { ok: false, timedOut: false, taskGroup: group, reason: `task group "${group}" could not be placed: ${placementSummary(metric)}` };
    }
    if (evaluation.DeploymentID) return this.watchDeployment(evaluation.DeploymentID);
    // No deployment: the job is unchanged. A deployment of this same version may still be rolling out.
    const { value: job } = await this.call(() => this.deps.nomad.readJob(this.req.jobId, { signal: this.req.signal }));
    const { value: latest } = await this.call(() => this.deps.nomad.latestDeployment(this.req.jobId, { signal: this.req.signal }));
    if (latest && latest.JobVersion === job.Version && latest.Status === 'running') return this.watchDeployment(latest.ID);
    return this.waitCurrentAllocations(job);
  }

  private async followEvaluation(evalId: string): Promise<NomadEvaluation | undefined> {
    let index = 0;
    for (;;) {
      const wait = this.waitMs();
      if (wait <= 0) return undefined;
      const r = await this.call(() => this.deps.nomad.readEvaluation(evalId, { index, waitMs: wait, signal: this.req.signal }));
      index = r.index;
      const e = r.value;
      if (e.Status === 'complete' && e.NextEval) {
        await this.deps.sleep(Math.min((e.Wait ?? 0) / 1e6, Math.max(0, this.req.deadline - this.deps.now())), this.req.signal);
        return this.followEvaluation(e.NextEval);
      }
      if (e.Status === 'complete' || e.Status === 'failed' || e.Status === 'canceled') return e;
    }
  }

  private async watchDeployment(deploymentId: string): Promise<WatchOutcome> {
    const stopAllocs = new AbortController();
    const onAbort = () => stopAllocs.abort();
    this.req.signal.addEventListener('abort', onAbort, { once: true });
    const allocLoop = this.watchDeploymentAllocs(deploymentId, stopAllocs.signal);
    try {
      let index = 0;
      let wakeInMs: number | undefined;
      for (;;) {
        const read = await this.call(() => this.deps.nomad.readDeployment(deploymentId, { index, waitMs: this.waitMs(wakeInMs), signal: this.req.signal }));
        const d = read.value;
        index = read.index;
        if (d.Status === 'successful') {
          await this.req.canaries?.review(d, this.req.signal);
          // The allocation loop may not have seen the last health change yet; report it before passing.
          const final = await this.deps.nomad.deploymentAllocations(deploymentId, { signal: this.req.signal }).catch(() => undefined);
          if (final) this.tracker.update(final.value);
          return { ok: true, deploymentId, summary: `deployment ${short(d.ID)} of job version ${d.JobVersion} successful` };
        }
        if (d.Status === 'failed' || d.Status === 'cancelled' || d.Status === 'blocked') return await this.explain(d, false);
        if (this.waitMs() <= 0) {
          await this.req.canaries?.atDeadline(d, this.req.signal);
          return await this.explain(d, true);
        }
        wakeInMs = (await this.req.canaries?.review(d, this.req.signal))?.wakeInMs;
      }
    } finally {
      stopAllocs.abort();
      this.req.signal.removeEventListener('abort', onAbort);
      await allocLoop;
    }
  }

  private async watchDeploymentAllocs(deploymentId: string, signal: AbortSignal): Promise<void> {
    let index = 0;
    while (!signal.aborted) {
      try {
        const r = await this.deps.nomad.deploymentAllocations(deploymentId, { index, waitMs: this.config.blockingWaitMs, signal });
        index = r.index;
        this.tracker.update(r.value);
      } catch {
        // Progress lines are best effort; the deployment loop decides the outcome and reads allocations again.
        if (!signal.aborted) await this.deps.sleep(this.config.retryDelayMs, signal).catch(() => undefined);
      }
    }
  }

  private async waitCurrentAllocations(job: NomadJob): Promise<WatchOutcome> {
    let index = 0;
    for (;;) {
      const wait = this.waitMs();
      const r = await this.call(() => this.deps.nomad.jobAllocations(this.req.jobId, { index: wait > 0 ? index : 0, waitMs: wait, signal: this.req.signal }));
      index = r.index;
      const current = r.value.filter((a) => a.JobVersion === job.Version && a.DesiredStatus === 'run');
      this.tracker.update(current);
      const bad = newest(current.filter((a) => ['failed', 'unhealthy'].includes(allocPhase(a))));
      if (bad) {
        return { ok: false, timedOut: false, taskGroup: bad.TaskGroup, allocId: bad.ID, reason: `job ${job.ID} is unchanged but ${allocText(bad)}` };
      }
      const isUp = (a: NomadAllocationStub) => a.ClientStatus === 'running' && a.DeploymentStatus?.Healthy !== false;
      const short_ = job.TaskGroups.find((g) => current.filter((a) => a.TaskGroup === g.Name && isUp(a)).length < g.Count);
      if (!short_) return { ok: true, summary: `job ${job.ID} unchanged (version ${job.Version}); its allocations are healthy` };
      if (wait <= 0) {
        const alloc = newest(current.filter((a) => a.TaskGroup === short_.Name));
        return {
          ok: false,
          timedOut: true,
          taskGroup: short_.Name,
          allocId: alloc?.ID,
          reason: `job ${job.ID} is unchanged but task group "${short_.Name}" is not healthy in time${alloc ? `; ${allocText(alloc)}` : ''}`,
        };
      }
    }
  }

  /** The failure reason: the deployment's status, the group at fault and what its latest allocation says. */
  private async explain(d: NomadDeployment, timedOut: boolean): Promise<Failure> {
    const { value: allocs } = await this.call(() => this.deps.nomad.deploymentAllocations(d.ID, { signal: this.req.signal }));
    this.tracker.update(allocs);
    const groups = Object.entries(d.TaskGroups).sort(([a], [b]) => (a < b ? -1 : 1));
    const [group] =
      groups.find(([, s]) => s.UnhealthyAllocs > 0) ??
      groups.find(([, s]) => s.HealthyAllocs < Math.max(s.DesiredTotal, s.DesiredCanaries)) ??
      groups[0] ??
      [];
    const inGroup = allocs.filter((a) => a.TaskGroup === group);
    const alloc = newest(inGroup.filter((a) => ['failed', 'unhealthy'].includes(allocPhase(a)))) ?? newest(inGroup);
    const byOperator = this.req.canaries?.operatorFailure(d);
    const status = timedOut ? `still ${d.Status} at the deadline` : `${d.Status}: ${byOperator ?? d.StatusDescription}`;
    const where = group ? `; task group "${group}": ${alloc ? allocText(alloc) : 'no allocation was placed'}` : '';
    const failure: Failure = { ok: false, timedOut, deployment: d, taskGroup: group, allocId: alloc?.ID, reason: `deployment ${short(d.ID)} ${status}${where}` };
    if (d.Status === 'failed' && Object.values(d.TaskGroups).some((s) => s.AutoRevert)) {
      // Nomad stores the failure and the rollback job in one write, so the job already shows the revert.
      const { value: job } = await this.call(() => this.deps.nomad.readJob(d.JobID, { signal: this.req.signal }));
      if ((job.Version ?? 0) > d.JobVersion) {
        failure.revertedJobVersion = job.Version;
        this.req.onNote(`Nomad auto-reverted ${d.JobID}: job version ${job.Version} restores the last stable version`);
      }
    }
    return failure;
  }

  private timeout(what: string): Failure {
    return { ok: false, timedOut: true, reason: `gave up at the deadline: ${what}` };
  }

  /** Time left for one blocking query: the deadline, the configured cap, and a timed canary decision. */
  private waitMs(wakeInMs?: number): number {
    const left = this.req.deadline - this.deps.now();
    const cap = wakeInMs === undefined ? this.config.blockingWaitMs : Math.min(this.config.blockingWaitMs, Math.max(1, wakeInMs));
    return Math.min(left, cap);
  }

  /** Retries network errors and 5xx answers a few times; 4xx answers and aborts are final. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const transient = err instanceof UpstreamError && (err.status === 0 || err.status >= 500);
        if (!transient || attempt >= this.config.maxRetries || this.req.signal.aborted) throw err;
        await this.deps.sleep(this.config.retryDelayMs, this.req.signal);
      }
    }
  }
}

function newest(allocs: NomadAllocationStub[]): NomadAllocationStub | undefined {
  return [...allocs].sort((a, b) => b.CreateIndex - a.CreateIndex)[0];
}

function allocText(a: NomadAllocationStub): string {
  return `allocation ${short(a.ID)} (${a.Name}) is ${allocPhase(a)}${explainAlloc(a) ? `: ${explainAlloc(a)}` : ''}`;
}

function short(id: string): string {
  return id.slice(0, 8);
}

/** Nomad's placement metrics in a sentence, e.g. "1 node exhausted (memory)". */
function placementSummary(m: NomadAllocationMetric): string {
  const parts: string[] = [];
  const dims = Object.keys(m.DimensionExhausted ?? {});
  if (m.NodesExhausted) parts.push(`${m.NodesExhausted} node(s) exhausted${dims.length ? ` (${dims.join(', ')})` : ''}`);
  const filtered = Object.keys({ ...m.ConstraintFiltered, ...m.ClassExhausted });
  if (m.NodesFiltered) parts.push(`${m.NodesFiltered} node(s) filtered${filtered.length ? ` (${filtered.join(', ')})` : ''}`);
  if (!m.NodesEvaluated) parts.push('no node is eligible (none in the datacenters, or all down)');
  if (m.CoalescedFailures) parts.push(`${m.CoalescedFailures + 1} allocations could not be placed`);
  return parts.join('; ') || 'no node has room';
}
