// Part of the Nomad simulator (a test double): the server's state and scheduler. Registration creates a version
// and an evaluation; the scheduler places allocations and, when the spec changed, a deployment; the deployment
// watcher rolls allocations, fails on unhealthy allocations or the progress deadline, and auto-reverts to the
// latest stable version. Behaviour follows docs/nomad-api.md sections 1 to 3, with durations scaled.
import { randomUUID } from 'node:crypto';
import type {
  NomadAllocation,
  NomadAllocationMetric,
  NomadDeployment,
  NomadEvaluation,
  NomadJob,
  NomadTaskGroup,
} from '../../src/integrations/nomad/nomad-types.js';
import { SimAllocRunner } from './nomad-sim-alloc-runner.js';
import { type NomadSimDriver, type NomadSimScenario, scriptedDriver } from './nomad-sim-driver.js';
import { canonicalizeJob, multiError, specFingerprint, validateJob } from './nomad-sim-jobspec.js';

export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(body);
  }
}

export interface ClusterOptions {
  /** Real ms per Nomad ms (0.001 makes MinHealthyTime 30s last 30ms). */
  timeFactor: number;
  /** Real ms of pretend work per step (scheduling, image pull). */
  stepMs: number;
  /** The driver for healthy task groups; failure scenarios always use the scripted one. */
  driver?: NomadSimDriver;
  scenarioFor(jobId: string, images: string[]): NomadSimScenario;
  warningsFor(jobId: string): string[];
}

interface JobRecord {
  versions: { job: NomadJob; fingerprint: string; scenarios: Record<string, NomadSimScenario> }[];
}

type Table = 'jobs' | 'evals' | 'deployments' | 'allocs';

export class SimCluster {
  index = 10;
  readonly tableIndex: Record<Table, number> = { jobs: 1, evals: 1, deployments: 1, allocs: 1 };
  readonly jobs = new Map<string, JobRecord>();
  readonly evals = new Map<string, NomadEvaluation>();
  readonly deployments = new Map<string, NomadDeployment>();
  readonly allocs = new Map<string, NomadAllocation>();
  private readonly runners = new Map<string, SimAllocRunner>();
  private readonly stops = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<() => void>();
  private readonly pendingReschedules = new Map<string, number>(); // `${deploymentId}/${group}` -> count
  private notifyScheduled = false;
  private nextPort = 20000;
  private closed = false;

  constructor(private readonly opts: ClusterOptions) {}

  // ---- change notification (for blocking queries) ----

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bump(...tables: Table[]): number {
    this.index += 1;
    for (const t of tables) this.tableIndex[t] = this.index;
    if (!this.notifyScheduled) {
      this.notifyScheduled = true;
      setImmediate(() => {
        this.notifyScheduled = false;
        for (const l of [...this.listeners]) l();
      });
    }
    return this.index;
  }

  // ---- jobs ----

  currentJob(namespace: string, id: string): NomadJob | undefined {
    return this.jobs.get(`${namespace}/${id}`)?.versions.at(-1)?.job;
  }

  register(input: NomadJob, namespace: string, preserveCounts = false): { EvalID: string; EvalCreateIndex: number; JobModifyIndex: number; Warnings: string; Index: number } {
    const job = canonicalizeJob(input, namespace);
    const running = this.currentJob(namespace, job.ID);
    if (preserveCounts && running && !running.Stop) {
      for (const g of job.TaskGroups) g.Count = running.TaskGroups.find((r) => r.Name === g.Name)?.Count ?? g.Count;
    }
    const images = job.TaskGroups.flatMap((g) => g.Tasks.map((t) => String(t.Config?.image ?? '')));
    if (this.opts.scenarioFor(job.ID, images) === 'validation-error') {
      throw new SimHttpError(500, multiError([`Task group ${job.TaskGroups[0]?.Name ?? 'web'} validation failed: ${multiError(['Missing task driver'])}`]));
    }
    const errors = validateJob(job);
    if (errors.length > 0) throw new SimHttpError(500, multiError(errors));
    const scenarios = Object.fromEntries(
      job.TaskGroups.map((g) => [g.Name, this.opts.scenarioFor(job.ID, g.Tasks.map((t) => String(t.Config?.image ?? '')))]),
    );
    const warnings = this.opts.warningsFor(job.ID);
    const result = this.upsert(job, namespace, scenarios, 'job-register');
    return {
      ...result,
      Warnings: warnings.length ? `${warnings.length} warning(s):\n\n${warnings.map((w) => `* ${w}`).join('\n')}` : '',
    };
  }

  private upsert(job: NomadJob, namespace: string, scenarios: Record<string, NomadSimScenario>, trigger: string) {
    const key = `${namespace}/${job.ID}`;
    const record = this.jobs.get(key) ?? { versions: [] };
    this.jobs.set(key, record);
    const previous = record.versions.at(-1);
    const fingerprint = specFingerprint(job);
    const changed = !previous || previous.fingerprint !== fingerprint || !!previous.job.Stop;
    const index = this.bump('jobs', 'evals');
    let current: NomadJob;
    if (changed) {
      current = {
        ...job,
        Stop: false,
        Status: 'pending',
        Stable: false,
        Version: previous ? previous.job.Version! + 1 : 0,
        SubmitTime: Date.now() * 1e6,
        CreateIndex: previous?.job.CreateIndex ?? index,
        ModifyIndex: index,
        JobModifyIndex: index,
      };
      record.versions.push({ job: current, fingerprint, scenarios });
    } else {
      current = previous.job;
    }
    // Nomad creates no evaluation for a periodic or a parameterized job: they run as their children.
    if (current.Periodic || (current.ParameterizedJob && !current.Dispatched)) {
      return { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: current.JobModifyIndex!, Index: index };
    }
    const evaluation = this.createEval(current, trigger, index);
    this.later(this.opts.stepMs, () => this.processEval(evaluation.ID, changed));
    return { EvalID: evaluation.ID, EvalCreateIndex: index, JobModifyIndex: current.JobModifyIndex!, Index: index };
  }

  private createEval(job: NomadJob, trigger: string, index: number, status: NomadEvaluation['Status'] = 'pending'): NomadEvaluation {
    const evaluation: NomadEvaluation = {
      ID: randomUUID(),
      Namespace: job.Namespace,
      Type: job.Type,
      TriggeredBy: trigger,
      JobID: job.ID,
      DeploymentID: '',
      Status: status,
      StatusDescription: '',
      NextEval: '',
      BlockedEval: '',
      FailedTGAllocs: null,
      CreateIndex: index,
      ModifyIndex: index,
    };
    this.evals.set(evaluation.ID, evaluation);
    return evaluation;
  }

  /**
   * `POST /v1/job/:id/periodic/force` (N nomad/periodic_endpoint.go Force, nomad/periodic.go): launches the child
   * `<id>/periodic-<unix seconds>` now. Only a tracked periodic job can be forced: not a disabled, stopped or
   * parameterized one. Errors are plain RPC errors, so HTTP 500.
   */
  forcePeriodic(namespace: string, id: string): { EvalID: string; EvalCreateIndex: number; Index: number } {
    const parent = this.currentJob(namespace, id);
    if (!parent) throw new SimHttpError(500, 'job not found');
    if (!parent.Periodic) throw new SimHttpError(500, "can't force launch non-periodic job");
    if (!parent.Periodic.Enabled || parent.Stop || parent.ParameterizedJob) {
      throw new SimHttpError(500, `force launch for job "${id}" failed: can't force run non-tracked job "${id}" (${namespace})`);
    }
    const childId = `${id}/periodic-${Math.floor(Date.now() / 1000)}`;
    const child: NomadJob = { ...withoutServerFields(parent), ID: childId, Name: childId, ParentID: id, Periodic: null };
    const result = this.upsert(child, namespace, this.scenariosOf(namespace, id), 'periodic-job');
    return { EvalID: result.EvalID, EvalCreateIndex: result.EvalCreateIndex, Index: result.Index };
  }

  /**
   * `POST /v1/job/:id/dispatch` (N nomad/job_endpoint.go Dispatch, validateDispatchRequest): a child
   * `<id>/dispatch-<unix seconds>-<8 hex>` with the payload and meta, and its evaluation. The simulator keeps the
   * payload as sent (base64); Nomad stores it snappy-compressed.
   */
  dispatch(namespace: string, id: string, payload: Buffer, meta: Record<string, string>) {
    const parent = this.currentJob(namespace, id);
    if (!parent) throw new SimHttpError(500, 'parameterized job not found');
    if (!parent.ParameterizedJob || parent.Dispatched) throw new SimHttpError(500, `Specified job "${id}" is not a parameterized job`);
    if (parent.Stop) throw new SimHttpError(500, `Specified job "${id}" is stopped`);
    const rules = parent.ParameterizedJob;
    if (rules.Payload === 'required' && payload.length === 0) throw new SimHttpError(500, 'Payload is not provided but required by parameterized job');
    if (rules.Payload === 'forbidden' && payload.length > 0) throw new SimHttpError(500, 'Payload provided but forbidden by parameterized job');
    if (payload.length > DISPATCH_PAYLOAD_LIMIT) throw new SimHttpError(500, `Payload exceeds maximum size; ${payload.length} > ${DISPATCH_PAYLOAD_LIMIT}`);
    const allowed = new Set([...(rules.MetaRequired ?? []), ...(rules.MetaOptional ?? [])]);
    const unpermitted = Object.keys(meta).filter((k) => !allowed.has(k));
    if (unpermitted.length) throw new SimHttpError(500, `Dispatch request included unpermitted metadata keys: [${unpermitted.join(' ')}]`);
    const missing = (rules.MetaRequired ?? []).filter((k) => !(k in meta));
    if (missing.length) throw new SimHttpError(500, `Dispatch did not provide required meta keys: [${missing.join(' ')}]`);
    const childId = `${id}/dispatch-${Math.floor(Date.now() / 1000)}-${randomUUID().slice(0, 8)}`;
    const child: NomadJob = {
      ...withoutServerFields(parent),
      ID: childId,
      Name: childId,
      ParentID: id,
      Dispatched: true,
      Meta: { ...(parent.Meta ?? {}), ...meta },
      Payload: payload.toString('base64'),
    };
    const result = this.upsert(child, namespace, this.scenariosOf(namespace, id), 'job-register');
    const created = this.currentJob(namespace, childId)!;
    return { DispatchedJobID: childId, EvalID: result.EvalID, EvalCreateIndex: result.EvalCreateIndex, JobCreateIndex: created.CreateIndex!, Index: result.Index };
  }

  private scenariosOf(namespace: string, id: string): Record<string, NomadSimScenario> {
    return this.jobs.get(`${namespace}/${id}`)?.versions.at(-1)?.scenarios ?? {};
  }

  deregister(namespace: string, id: string, purge: boolean) {
    const record = this.jobs.get(`${namespace}/${id}`);
    if (!record) return { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: 0, Index: this.index };
    const job = record.versions.at(-1)!.job;
    const index = this.bump('jobs', 'evals', 'deployments');
    job.Stop = true;
    job.Status = 'dead';
    for (const d of this.deployments.values()) {
      if (d.JobID === id && d.Namespace === namespace && d.Status === 'running') this.finishDeployment(d, 'cancelled', 'Cancelled because job is stopped');
    }
    for (const a of this.jobAllocs(namespace, id)) this.stopAlloc(a, 'alloc not needed since job is stopped');
    if (purge) this.jobs.delete(`${namespace}/${id}`);
    const evaluation = this.createEval(job, 'job-deregister', index, 'complete');
    return { EvalID: evaluation.ID, EvalCreateIndex: index, JobModifyIndex: job.JobModifyIndex!, Index: index };
  }

  /**
   * `POST /v1/job/:id/scale`: a new job version with the group's count changed. Nomad updates the running
   * allocations in place (a count is no destructive change), stops the surplus (highest index first) and, when
   * the group has an update strategy, places the missing ones under a deployment of the new version.
   */
  scaleGroup(namespace: string, id: string, groupName: string, count: number) {
    const record = this.jobs.get(`${namespace}/${id}`);
    const previous = record?.versions.at(-1);
    if (!record || !previous || previous.job.Stop) throw new SimHttpError(404, 'job not found');
    if (!previous.job.TaskGroups.some((g) => g.Name === groupName)) throw new SimHttpError(400, `task group "${groupName}" specified for scaling does not exist in job`);
    const index = this.bump('jobs', 'evals');
    const job: NomadJob = {
      ...structuredClone(previous.job),
      TaskGroups: previous.job.TaskGroups.map((g) => (g.Name === groupName ? { ...structuredClone(g), Count: count } : structuredClone(g))),
      Version: previous.job.Version! + 1,
      Stable: false,
      SubmitTime: Date.now() * 1e6,
      ModifyIndex: index,
      JobModifyIndex: index,
    };
    record.versions.push({ job, fingerprint: specFingerprint(job), scenarios: previous.scenarios });
    for (const a of this.live(job)) {
      a.JobVersion = job.Version!;
      a.Job = job;
      this.touch(a);
    }
    const evaluation = this.createEval(job, 'job-scaling', index);
    this.later(this.opts.stepMs, () => this.processScale(evaluation.ID, groupName));
    return { EvalID: evaluation.ID, EvalCreateIndex: index, JobModifyIndex: index, Warnings: '', Index: index };
  }

  private processScale(evalId: string, groupName: string): void {
    const evaluation = this.evals.get(evalId);
    if (!evaluation || this.closed) return;
    const job = this.currentJob(evaluation.Namespace!, evaluation.JobID);
    const group = job?.TaskGroups.find((g) => g.Name === groupName);
    if (!job || !group || job.Stop) return;
    const alive = this.live(job).filter((a) => a.TaskGroup === groupName).sort((a, b) => slotOf(b) - slotOf(a));
    let deployment: NomadDeployment | undefined;
    for (const a of alive.slice(0, Math.max(0, alive.length - group.Count))) this.stopAlloc(a, 'alloc not needed due to job update');
    if ((group.Update?.MaxParallel ?? 0) > 0 && group.Count > 0) {
      // The new version gets a deployment (its allocations were updated in place); the running ones join it with
      // the health they had, so it completes, and marks the version stable, once the missing ones are healthy.
      deployment = this.createDeployment(job, false);
      for (const a of this.live(job)) {
        const state = deployment.TaskGroups[a.TaskGroup]!;
        a.DeploymentID = deployment.ID;
        state.PlacedAllocs += 1;
        if (a.DeploymentStatus?.Healthy) state.HealthyAllocs += 1;
      }
      this.advanceGroup(deployment, group);
      this.maybeComplete(deployment);
    } else {
      for (let i = Math.min(alive.length, group.Count); i < group.Count; i++) this.place(job, group, undefined, false, undefined);
    }
    evaluation.Status = 'complete';
    evaluation.DeploymentID = deployment?.ID ?? '';
    evaluation.ModifyIndex = this.bump('evals');
  }

  /** The allocation runner of `allocId` (its tasks' logs, restarts), while it exists. */
  runner(allocId: string): SimAllocRunner | undefined {
    return this.runners.get(allocId);
  }

  jobAllocs(namespace: string, id: string): NomadAllocation[] {
    return [...this.allocs.values()].filter((a) => a.JobID === id && a.Namespace === namespace);
  }

  // ---- scheduler ----

  private processEval(evalId: string, changed: boolean): void {
    const evaluation = this.evals.get(evalId);
    if (!evaluation || this.closed) return;
    const record = this.jobs.get(`${evaluation.Namespace}/${evaluation.JobID}`);
    const version = record?.versions.at(-1);
    if (!version || version.job.Stop) return;
    const job = version.job;
    const failed: Record<string, NomadAllocationMetric> = {};
    let deployment: NomadDeployment | undefined;
    const hasOld = this.live(job).length > 0;
    if (changed && job.TaskGroups.some((g) => (g.Update?.MaxParallel ?? 0) > 0 && g.Count > 0)) {
      deployment = this.createDeployment(job, hasOld);
    }
    for (const group of job.TaskGroups) {
      if (version.scenarios[group.Name] === 'placement-failure') {
        failed[group.Name] = {
          NodesEvaluated: 1,
          NodesExhausted: 1,
          DimensionExhausted: { memory: 1 },
          ConstraintFiltered: null,
          CoalescedFailures: Math.max(0, group.Count - 1),
        };
      } else if (deployment) {
        this.advanceGroup(deployment, group);
      } else if (!this.activeDeployment(job)) {
        // No deployment: an unchanged job only tops up missing allocations; a changed one without an update
        // strategy replaces its allocations all at once.
        if (changed) for (const a of this.live(job)) if (a.TaskGroup === group.Name) this.stopAlloc(a, 'alloc is being updated due to job update');
        const alive = this.live(job).filter((a) => a.TaskGroup === group.Name && a.JobVersion === job.Version).length;
        for (let i = alive; i < group.Count; i++) this.place(job, group, undefined, false, undefined);
      }
    }
    evaluation.Status = 'complete';
    evaluation.DeploymentID = deployment?.ID ?? '';
    if (Object.keys(failed).length > 0) {
      evaluation.FailedTGAllocs = failed;
      const blocked = this.createEval(job, 'queued-allocs', this.index, 'blocked');
      evaluation.BlockedEval = blocked.ID;
      blocked.StatusDescription = 'created to place remaining allocations';
    }
    evaluation.ModifyIndex = this.bump('evals');
  }

  private createDeployment(job: NomadJob, hasOld: boolean): NomadDeployment {
    for (const d of this.deployments.values()) {
      if (d.JobID === job.ID && d.Namespace === job.Namespace && d.Status === 'running') {
        this.finishDeployment(d, 'cancelled', 'Cancelled due to newer version of job');
      }
    }
    const index = this.bump('deployments');
    const deployment: NomadDeployment = {
      ID: randomUUID(),
      Namespace: job.Namespace!,
      JobID: job.ID,
      JobVersion: job.Version!,
      JobModifyIndex: job.JobModifyIndex!,
      JobSpecModifyIndex: job.JobModifyIndex!,
      JobCreateIndex: job.CreateIndex!,
      TaskGroups: {},
      Status: 'running',
      StatusDescription: 'Deployment is running',
      CreateIndex: index,
      ModifyIndex: index,
    };
    for (const g of job.TaskGroups) {
      const canaries = hasOld ? (g.Update?.Canary ?? 0) : 0;
      deployment.TaskGroups[g.Name] = {
        AutoRevert: g.Update?.AutoRevert ?? false,
        AutoPromote: g.Update?.AutoPromote ?? false,
        ProgressDeadline: g.Update?.ProgressDeadline ?? 0,
        RequireProgressBy: null,
        Promoted: false,
        PlacedCanaries: canaries > 0 ? [] : null,
        DesiredCanaries: canaries,
        DesiredTotal: g.Count,
        PlacedAllocs: 0,
        HealthyAllocs: 0,
        UnhealthyAllocs: 0,
      };
      this.armProgressDeadline(deployment, g.Name);
    }
    this.deployments.set(deployment.ID, deployment);
    return deployment;
  }

  private armProgressDeadline(d: NomadDeployment, group: string): void {
    const state = d.TaskGroups[group]!;
    if (!state.ProgressDeadline) return;
    const ms = this.scale(state.ProgressDeadline);
    const deadline = Date.now() + ms;
    state.RequireProgressBy = new Date(deadline).toISOString();
    this.later(ms, () => {
      if (d.Status !== 'running' || state.RequireProgressBy !== new Date(deadline).toISOString()) return;
      // Healthy canaries waiting for promotion are not failed by the deadline: the deployment waits for a person.
      const awaitingPromotion = state.DesiredCanaries > 0 && !state.Promoted && state.HealthyAllocs >= state.DesiredCanaries;
      if (!this.groupComplete(d, group) && !awaitingPromotion) this.failDeployment(d, 'Failed due to progress deadline');
    });
  }

  /** Place allocations for `group` up to MaxParallel in flight, canaries first when the deployment wants them. */
  private advanceGroup(d: NomadDeployment, group: NomadTaskGroup): void {
    const state = d.TaskGroups[group.Name];
    if (!state || d.Status !== 'running') return;
    const job = this.versionOf(d);
    if (!job) return;
    const mine = this.live(job).filter((a) => a.DeploymentID === d.ID && a.TaskGroup === group.Name);
    const rescheduling = this.pendingReschedules.get(`${d.ID}/${group.Name}`) ?? 0;
    if (state.DesiredCanaries > 0 && !state.Promoted) {
      for (let i = mine.length + rescheduling; i < state.DesiredCanaries; i++) this.place(job, group, d, true, undefined);
      return;
    }
    const inFlight = mine.filter((a) => a.DeploymentStatus?.Healthy == null).length + rescheduling;
    const missing = state.DesiredTotal - mine.length - rescheduling;
    const room = Math.max(0, (group.Update?.MaxParallel ?? 1) - inFlight);
    for (let i = 0; i < Math.min(missing, room); i++) {
      const old = this.live(job).find((a) => a.TaskGroup === group.Name && a.JobVersion !== job.Version);
      if (old) this.stopAlloc(old, 'alloc is being updated due to job update');
      this.place(job, group, d, false, old?.ID);
    }
  }

  private place(job: NomadJob, group: NomadTaskGroup, d: NomadDeployment | undefined, canary: boolean, replaces: string | undefined, previous?: NomadAllocation): NomadAllocation {
    const index = this.bump('allocs');
    const scenario = this.jobs.get(`${job.Namespace}/${job.ID}`)?.versions.find((v) => v.job.Version === job.Version)?.scenarios[group.Name] ?? 'healthy';
    const ports = (group.Networks ?? []).flatMap((n) => [
      ...(n.ReservedPorts ?? []).map((p) => ({ Label: p.Label, Value: p.Value ?? 0, To: p.To || p.Value || 0, HostIP: '127.0.0.1' })),
      ...(n.DynamicPorts ?? []).map((p) => ({ Label: p.Label, Value: this.nextPort++, To: p.To ?? 0, HostIP: '127.0.0.1' })),
    ]);
    const slot = [...this.allocs.values()].filter((a) => a.JobID === job.ID && a.TaskGroup === group.Name).length;
    const alloc: NomadAllocation = {
      ID: randomUUID(),
      EvalID: '',
      Name: `${job.ID}.${group.Name}[${previous ? previous.Name.replace(/.*\[(\d+)\]$/, '$1') : slot % Math.max(1, group.Count)}]`,
      Namespace: job.Namespace!,
      NodeID: 'sim-node-1',
      NodeName: 'sim-node-1',
      JobID: job.ID,
      JobType: job.Type,
      JobVersion: job.Version!,
      TaskGroup: group.Name,
      DesiredStatus: 'run',
      DesiredDescription: '',
      ClientStatus: 'pending',
      ClientDescription: 'No tasks have started',
      TaskStates: null,
      DeploymentStatus: null,
      FollowupEvalID: '',
      NextAllocation: '',
      CreateIndex: index,
      ModifyIndex: index,
      CreateTime: Date.now() * 1e6,
      ModifyTime: Date.now() * 1e6,
      DeploymentID: d?.ID ?? '',
      Job: job,
      AllocatedResources: { Shared: { Ports: ports } },
    };
    if (previous) previous.NextAllocation = alloc.ID;
    this.allocs.set(alloc.ID, alloc);
    if (d) {
      const state = d.TaskGroups[group.Name]!;
      state.PlacedAllocs += 1;
      if (canary) {
        state.PlacedCanaries = [...(state.PlacedCanaries ?? []), alloc.ID];
        alloc.DeploymentStatus = { Healthy: null, Timestamp: null, Canary: true, ModifyIndex: index };
      }
      d.ModifyIndex = this.bump('deployments');
    }
    const driver = scenario === 'healthy' && this.opts.driver ? this.opts.driver : scriptedDriver(scenario, this.opts.stepMs);
    const runner = new SimAllocRunner(alloc, group, driver, { scale: (ns) => this.scale(ns), trackHealth: !!d }, {
      changed: () => this.touch(alloc),
      health: (healthy) => this.onHealth(alloc, healthy),
    });
    this.runners.set(alloc.ID, runner);
    runner.start(Promise.all([replaces ? this.stops.get(replaces) : undefined, sleep(this.opts.stepMs)]));
    return alloc;
  }

  private touch(alloc: NomadAllocation): void {
    alloc.ModifyIndex = this.bump('allocs');
    alloc.ModifyTime = Date.now() * 1e6;
    // A batch job is dead once every allocation of it ended (N nomad/state/state_store.go getJobStatus).
    const job = this.currentJob(alloc.Namespace, alloc.JobID);
    if (job && job.Type === 'batch' && !job.Periodic) {
      const allocs = this.jobAllocs(alloc.Namespace, alloc.JobID);
      const ended = allocs.every((a) => ['complete', 'failed', 'lost'].includes(a.ClientStatus));
      const status = ended ? 'dead' : allocs.some((a) => a.ClientStatus === 'running') ? 'running' : 'pending';
      if (job.Status !== status) {
        job.Status = status;
        job.ModifyIndex = this.bump('jobs');
      }
    }
  }

  private stopAlloc(alloc: NomadAllocation, why: string): void {
    if (alloc.DesiredStatus !== 'run') return;
    alloc.DesiredStatus = 'stop';
    alloc.DesiredDescription = why;
    this.touch(alloc);
    const runner = this.runners.get(alloc.ID);
    if (runner) this.stops.set(alloc.ID, runner.stop());
  }

  // ---- deployment watcher ----

  private onHealth(alloc: NomadAllocation, healthy: boolean): void {
    const d = this.deployments.get(alloc.DeploymentID);
    alloc.DeploymentStatus = {
      Healthy: healthy,
      Timestamp: new Date().toISOString(),
      Canary: alloc.DeploymentStatus?.Canary ?? false,
      ModifyIndex: this.index + 1,
    };
    this.touch(alloc);
    if (!d || d.Status !== 'running') return;
    const state = d.TaskGroups[alloc.TaskGroup]!;
    const group = this.versionOf(d)?.TaskGroups.find((g) => g.Name === alloc.TaskGroup);
    if (healthy) {
      state.HealthyAllocs += 1;
      this.armProgressDeadline(d, alloc.TaskGroup);
      if (this.autoPromotable(d)) return this.promote(d);
    } else {
      state.UnhealthyAllocs += 1;
    }
    d.ModifyIndex = this.bump('deployments');
    if (!healthy && group) this.rescheduleOrFail(d, group, alloc);
    else if (group) this.advanceGroup(d, group);
    this.maybeComplete(d);
  }

  /** An unhealthy allocation is replaced while reschedule attempts remain and a progress deadline is set. */
  private rescheduleOrFail(d: NomadDeployment, group: NomadTaskGroup, alloc: NomadAllocation): void {
    const policy = group.ReschedulePolicy ?? {};
    const chain = this.chainLength(alloc);
    const allowed = policy.Unlimited || chain <= (policy.Attempts ?? 0);
    if (!d.TaskGroups[group.Name]!.ProgressDeadline || !allowed) {
      this.failDeployment(d, 'Failed due to unhealthy allocations');
      return;
    }
    this.stopAlloc(alloc, 'alloc was rescheduled because it failed');
    const base = policy.Delay ?? 30e9;
    const delayNs = policy.DelayFunction === 'constant' ? base : Math.min(base * 2 ** (chain - 1), policy.MaxDelay ?? 3600e9);
    const key = `${d.ID}/${group.Name}`;
    this.pendingReschedules.set(key, (this.pendingReschedules.get(key) ?? 0) + 1);
    this.later(this.scale(delayNs), () => {
      this.pendingReschedules.set(key, (this.pendingReschedules.get(key) ?? 1) - 1);
      const job = this.versionOf(d);
      if (d.Status === 'running' && job) this.place(job, group, d, !!alloc.DeploymentStatus?.Canary, undefined, alloc);
    });
  }

  private chainLength(alloc: NomadAllocation): number {
    let n = 1;
    for (const a of this.allocs.values()) if (a.NextAllocation && a.JobID === alloc.JobID && a.TaskGroup === alloc.TaskGroup && a.DeploymentID === alloc.DeploymentID) n += 1;
    return n;
  }

  private groupComplete(d: NomadDeployment, group: string): boolean {
    const s = d.TaskGroups[group]!;
    return s.HealthyAllocs >= Math.max(s.DesiredTotal, s.DesiredCanaries) && (s.DesiredCanaries === 0 || s.Promoted);
  }

  private maybeComplete(d: NomadDeployment): void {
    if (d.Status !== 'running' || !Object.keys(d.TaskGroups).every((g) => this.groupComplete(d, g))) return;
    const job = this.versionOf(d);
    if (job) {
      job.Stable = true;
      job.Status = 'running';
      for (const a of this.live(job)) if (a.JobVersion !== job.Version) this.stopAlloc(a, 'alloc is being updated due to job update');
    }
    this.finishDeployment(d, 'successful', 'Deployment completed successfully');
  }

  private finishDeployment(d: NomadDeployment, status: NomadDeployment['Status'], description: string): void {
    d.Status = status;
    d.StatusDescription = description;
    d.ModifyIndex = this.bump('deployments');
  }

  failDeployment(d: NomadDeployment, description: string): number | undefined {
    // The scheduler stops the canaries a failed deployment never promoted (Nomad's reconciler,
    // cancelUnneededCanaries); the old allocations keep running.
    for (const state of Object.values(d.TaskGroups)) {
      if (state.Promoted) continue;
      for (const id of state.PlacedCanaries ?? []) {
        const canary = this.allocs.get(id);
        if (canary) this.stopAlloc(canary, 'alloc not needed due to job update');
      }
    }
    const revert = Object.values(d.TaskGroups).some((s) => s.AutoRevert);
    const record = this.jobs.get(`${d.Namespace}/${d.JobID}`);
    const stable = record?.versions.filter((v) => v.job.Stable && v.job.Version! < d.JobVersion).at(-1);
    if (!revert) return void this.finishDeployment(d, 'failed', description);
    if (!stable) return void this.finishDeployment(d, 'failed', `${description} - no stable job version to auto revert to`);
    this.finishDeployment(d, 'failed', `${description} - rolling back to job version ${stable.job.Version}`);
    const { job, scenarios } = stable;
    const spec = { ...job };
    this.upsert(spec, d.Namespace, scenarios, 'deployment-watcher');
    return stable.job.Version;
  }

  /** Nomad promotes by itself only when every group with canaries has AutoPromote and all its canaries are healthy. */
  private autoPromotable(d: NomadDeployment): boolean {
    const canaryGroups = Object.values(d.TaskGroups).filter((s) => s.DesiredCanaries > 0 && !s.Promoted);
    return canaryGroups.length > 0 && canaryGroups.every((s) => s.AutoPromote && s.HealthyAllocs >= s.DesiredCanaries);
  }

  promote(d: NomadDeployment): void {
    if (d.Status !== 'running') throw new SimHttpError(500, `can't promote terminal deployment: deployment status ${d.Status}`);
    for (const [name, s] of Object.entries(d.TaskGroups)) {
      if (s.DesiredCanaries > 0 && s.HealthyAllocs < s.DesiredCanaries) {
        throw new SimHttpError(500, `Task group "${name}" has ${s.HealthyAllocs}/${s.DesiredCanaries} healthy allocations`);
      }
    }
    for (const s of Object.values(d.TaskGroups)) if (s.DesiredCanaries > 0) s.Promoted = true;
    d.ModifyIndex = this.bump('deployments');
    // A promotion resets the progress deadline, as a healthy allocation does.
    for (const [name, s] of Object.entries(d.TaskGroups)) if (s.DesiredCanaries > 0) this.armProgressDeadline(d, name);
    const job = this.versionOf(d);
    for (const g of job?.TaskGroups ?? []) this.advanceGroup(d, g);
    this.maybeComplete(d);
  }

  // ---- helpers ----

  private activeDeployment(job: NomadJob): NomadDeployment | undefined {
    return [...this.deployments.values()].find((d) => d.JobID === job.ID && d.Namespace === job.Namespace && d.Status === 'running');
  }

  private versionOf(d: NomadDeployment): NomadJob | undefined {
    return this.jobs.get(`${d.Namespace}/${d.JobID}`)?.versions.find((v) => v.job.Version === d.JobVersion)?.job;
  }

  /** Allocations of the job that are meant to run. */
  private live(job: NomadJob): NomadAllocation[] {
    return this.jobAllocs(job.Namespace!, job.ID).filter((a) => a.DesiredStatus === 'run' && !['complete', 'failed', 'lost'].includes(a.ClientStatus));
  }

  private scale(ns: number): number {
    return Math.max(1, (ns / 1e6) * this.opts.timeFactor);
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }
}

/** N nomad/job_endpoint.go DispatchPayloadSizeLimit. */
const DISPATCH_PAYLOAD_LIMIT = 16 * 1024;

/** Fields the server sets on a stored job, dropped when a child is derived from it (its own are set on register). */
function withoutServerFields(job: NomadJob): NomadJob {
  const { Stop: _s, Status: _st, Stable: _sb, Version: _v, SubmitTime: _t, CreateIndex: _c, ModifyIndex: _m, JobModifyIndex: _j, ...rest } = job;
  return structuredClone(rest) as NomadJob;
}

/** The index in an allocation's name, `job.group[3]` -> 3. */
function slotOf(a: NomadAllocation): number {
  return Number(/\[(\d+)\]$/.exec(a.Name)?.[1] ?? 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
