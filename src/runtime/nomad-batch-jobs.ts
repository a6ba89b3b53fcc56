// Scheduled and function processes on Nomad, where they are jobs Nomad runs itself (docs/nomad-api.md): a
// scheduled process is the periodic job `<app>-<process>` and a function the parameterized job of the same id.
//   run now   POST /v1/job/:id/periodic/force, then the eval names the child job it launched
//   invoke    POST /v1/job/:id/dispatch {Payload (base64), Meta}: answers the dispatched child job
//   history   the children (GET /v1/jobs?prefix=<id>/) and their allocations' status and exit code
//   pause     re-register the periodic job with Periodic.Enabled=false (Nomad's documented switch: no launches on
//             the schedule, no forced ones); resume registers it enabled again. The registered job is otherwise
//             kept as the last deploy left it, and submit registers it disabled while the pause lasts.
import { InvalidInputError, UpstreamError } from '../errors.js';
import type { NomadClient } from '../integrations/nomad/nomad-client.js';
import type { NomadAllocationStub, NomadJob, NomadJobListStub } from '../integrations/nomad/nomad-types.js';

/** One launch of a periodic or parameterized job, as its child job and allocation tell it. */
export interface NomadBatchRun {
  readonly nomadJobId: string;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly exitCode: number | null;
  /** ISO 8601: when the task started, else when the child job was submitted. */
  readonly startedAt: string;
  readonly durationMs: number | null;
  readonly allocationId?: string;
  readonly error?: string;
}

export type PauseOutcome = 'changed' | 'unchanged' | 'not registered' | 'stopped';

type BatchNomad = Pick<NomadClient, 'readJob' | 'register' | 'forcePeriodic' | 'dispatch' | 'listJobs' | 'jobAllocations' | 'readEvaluation' | 'deregister'>;

/** Fields Nomad sets on a stored job; dropped before it is registered again. */
const SERVER_FIELDS = ['Stop', 'Status', 'StatusDescription', 'Stable', 'Version', 'SubmitTime', 'CreateIndex', 'ModifyIndex', 'JobModifyIndex'] as const;

export class NomadBatchJobs {
  constructor(private readonly deps: { nomad: BatchNomad; pollWaitMs?: number }) {}

  /** The id of the periodic or parameterized job of `process` (DESIGN.md: `{app}-{process}`). */
  static jobId(app: string, process: string): string {
    return `${app}-${process}`;
  }

  /** Launches the periodic job now; answers the child job Nomad made. */
  async runNow(app: string, process: string, signal?: AbortSignal): Promise<string> {
    const id = NomadBatchJobs.jobId(app, process);
    const job = await this.registered(id, `the periodic job ${id} is not registered in Nomad: deploy ${app} first`);
    if (job.Stop) throw new InvalidInputError('process', `the periodic job ${id} is stopped in Nomad (nomad job stop); deploy ${app} to register it again`, 409);
    if (job.Periodic?.Enabled === false) throw new InvalidInputError('process', `the periodic job ${id} is disabled in Nomad (paused); resume it first: norn cron ${app} resume ${process}`, 409);
    const { evalId } = await this.deps.nomad.forcePeriodic(id, { signal });
    const { value: evaluation } = await this.deps.nomad.readEvaluation(evalId, { signal });
    return evaluation.JobID;
  }

  /** Dispatches the function's parameterized job with `payload`; answers the child job. */
  async dispatch(app: string, process: string, payload: Uint8Array | undefined, signal?: AbortSignal): Promise<string> {
    const id = NomadBatchJobs.jobId(app, process);
    const job = await this.registered(id, `the function job ${id} is not registered in Nomad: deploy ${app} (a deploy registers its functions)`);
    if (!job.ParameterizedJob) throw new InvalidInputError('process', `the Nomad job ${id} is not a parameterized job; deploy ${app} to register the function`, 409);
    if (job.Stop) throw new InvalidInputError('process', `the function job ${id} is stopped in Nomad (nomad job stop); deploy ${app} to register it again`, 409);
    return (await this.deps.nomad.dispatch(id, { payload }, { signal })).dispatchedJobId;
  }

  /** Turns the periodic job's schedule off or on, keeping everything else as registered. */
  async setPaused(app: string, process: string, paused: boolean): Promise<PauseOutcome> {
    const id = NomadBatchJobs.jobId(app, process);
    let job: NomadJob;
    try {
      job = (await this.deps.nomad.readJob(id)).value;
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return 'not registered';
      throw err;
    }
    // Registering a stopped job would start it again: that is a deploy's decision, not a pause's.
    if (job.Stop) return 'stopped';
    if (!job.Periodic || job.Periodic.Enabled === !paused) return 'unchanged';
    const again: Record<string, unknown> = { ...job, Periodic: { ...job.Periodic, Enabled: !paused } };
    for (const field of SERVER_FIELDS) delete again[field];
    await this.deps.nomad.register(again as unknown as NomadJob);
    return 'changed';
  }

  /** The newest `limit` launches of the job, newest first. */
  async history(app: string, process: string, limit: number, signal?: AbortSignal): Promise<NomadBatchRun[]> {
    const id = NomadBatchJobs.jobId(app, process);
    // The slash keeps `shop-tick-2/…` out of `shop-tick`'s children.
    const { value: children } = await this.deps.nomad.listJobs(`${id}/`, { signal });
    const newest = children.filter((c) => c.ParentID === id).sort((a, b) => b.SubmitTime - a.SubmitTime).slice(0, limit);
    return Promise.all(newest.map((child) => this.outcome(child, signal)));
  }

  /** Waits until the child job's allocation ended, at most `timeoutMs`; then the child is stopped and so reported. */
  async waitForEnd(nomadJobId: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<NomadBatchRun & { timedOut: boolean }> {
    const deadline = Date.now() + opts.timeoutMs;
    let index = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) {
        await this.deps.nomad.deregister(nomadJobId).catch(() => undefined);
        const last = await this.childOutcome(nomadJobId, opts.signal);
        return { ...last, status: 'failed', exitCode: null, timedOut: true };
      }
      const { value: allocs, index: next } = await this.deps.nomad.jobAllocations(nomadJobId, { index, waitMs: Math.min(left, this.deps.pollWaitMs ?? 30_000), signal: opts.signal });
      index = next;
      const run = fromAllocation(nomadJobId, newestAllocation(allocs), undefined);
      if (run.status !== 'running') return { ...run, timedOut: false };
    }
  }

  private async childOutcome(nomadJobId: string, signal?: AbortSignal): Promise<NomadBatchRun> {
    const { value: allocs } = await this.deps.nomad.jobAllocations(nomadJobId, { signal });
    return fromAllocation(nomadJobId, newestAllocation(allocs), undefined);
  }

  private async outcome(child: NomadJobListStub, signal?: AbortSignal): Promise<NomadBatchRun> {
    const { value: allocs } = await this.deps.nomad.jobAllocations(child.ID, { signal });
    const alloc = newestAllocation(allocs);
    if (!alloc && child.Status === 'dead') {
      return { nomadJobId: child.ID, status: 'failed', exitCode: null, startedAt: isoFromNs(child.SubmitTime), durationMs: null, error: 'stopped before it ran' };
    }
    return fromAllocation(child.ID, alloc, child.SubmitTime);
  }

  private async registered(id: string, notThere: string): Promise<NomadJob> {
    try {
      return (await this.deps.nomad.readJob(id)).value;
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) throw new InvalidInputError('process', notThere, 409);
      throw err;
    }
  }
}

function newestAllocation(allocs: readonly NomadAllocationStub[]): NomadAllocationStub | undefined {
  return [...allocs].sort((a, b) => b.CreateIndex - a.CreateIndex)[0];
}

function fromAllocation(nomadJobId: string, alloc: NomadAllocationStub | undefined, submitTimeNs: number | undefined): NomadBatchRun {
  const submitted = submitTimeNs ? isoFromNs(submitTimeNs) : new Date().toISOString();
  if (!alloc) return { nomadJobId, status: 'running', exitCode: null, startedAt: submitted, durationMs: null };
  const task = Object.values(alloc.TaskStates ?? {})[0];
  const terminated = [...(task?.Events ?? [])].reverse().find((e) => e.Type === 'Terminated');
  const code = terminated?.ExitCode ?? (terminated?.Details?.exit_code !== undefined ? Number(terminated.Details.exit_code) : undefined);
  const started = task?.StartedAt ? Date.parse(task.StartedAt) : NaN;
  const finished = task?.FinishedAt ? Date.parse(task.FinishedAt) : NaN;
  const status = alloc.ClientStatus === 'complete' ? 'succeeded' : ['failed', 'lost'].includes(alloc.ClientStatus) ? 'failed' : 'running';
  return {
    nomadJobId,
    status,
    exitCode: status === 'running' || code === undefined || !Number.isFinite(code) ? null : code,
    startedAt: Number.isFinite(started) ? new Date(started).toISOString() : submitted,
    durationMs: Number.isFinite(started) && Number.isFinite(finished) ? finished - started : null,
    allocationId: alloc.ID,
    ...(status === 'failed' ? { error: alloc.ClientDescription || alloc.ClientStatus } : {}),
  };
}

function isoFromNs(ns: number): string {
  return new Date(Math.floor(ns / 1e6)).toISOString();
}
