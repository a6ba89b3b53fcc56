// The Docker runtime: apps run as containers on this host's engine. A deploy starts `count` new containers per
// service process next to the old ones, gates them on their health check, and only after the forge step has
// pointed the ingress at them are the old ones drained (their stop signal and timeout) and removed. A failed
// gate removes the new containers and leaves the old ones serving. Containers carry labels (app, process, saga,
// commit), so the receiver keeps no state of its own: a restarted receiver finds them by label.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { parseGoDuration } from '../../apps/go-duration.js';
import { prebuiltImage, type AppSpec } from '../../apps/infraspec-schema.js';
import { type AppPlan, type PlannedProcess, planApp } from '../../app-plan/plan-app.js';
import { routedProcess } from '../../pipeline/ingress/resolve-service-address.js';
import { errorMessage, NotFoundError, StepFailedError } from '../../errors.js';
import type { ContainerSummary, DockerContainers } from '../../integrations/docker/docker-containers.js';
import { DOCKER_PAYLOAD_FILE, type OneOffOutcome, type OneOffRun, type Runtime, type RuntimeInstance } from '../../pipeline/runtime.js';
import type { LogLine, LogRequest, RestartRequest, ScaleRequest } from '../../pipeline/runtime-operations.js';
import { mergeLogSources } from '../merge-log-sources.js';
import { containerLogLines } from './docker-logs.js';
import { restartContainers, scaleContainers } from './docker-instance-ops.js';
import { done, skipped, type StartedContainer, type StepContext } from '../../pipeline/step.js';
import type { LoadSecrets } from '../../apps/app-secrets.js';
import { migrationUndoNotice } from '../../pipeline/steps/migration-undo-notice.js';
import { containerOptions, type DockerNetwork, LABEL } from './container-options.js';
import { check, gateInstance, type GateInstance, type GateOutcome } from './health-gate.js';
import { DockerCanaries, type OpenStage } from './docker-canaries.js';

export interface DockerRuntimeConfig {
  readonly network: DockerNetwork;
  readonly minHealthyMs: number;
  readonly healthyDeadlineMs: number;
  readonly appPostgresUrl?: string;
}

export interface DockerRuntimeDeps {
  readonly containers: DockerContainers;
  readonly loadSecrets: LoadSecrets;
  /** The app's current spec (for health checks of running instances); undefined once it left the apps dir. */
  specOf(app: string): AppSpec | undefined;
  /** The actions recorded in a saga, to tell whether an interrupted deploy's instances had passed the gate. */
  sagaActions(sagaId: string): Promise<string[]>;
  /** The `service` URLs of the app's ingress rules (cloudflared), to tell which set a crashed deploy left routed. */
  routedServices(app: string): Promise<string[]>;
  /** A free TCP port on this host (host networking). */
  freePort(): Promise<number>;
  /** The canary stages of this receiver: norn canary / promote / canary fail reach the waiting step through it. */
  readonly canaries?: DockerCanaries;
  readonly log: Logger;
}

/** Norn v2's default observation window for canaries before it promotes them (as on Nomad). */
const DEFAULT_CANARY_WINDOW = '2m';
/** How often a waiting canary is looked at, and how many missed checks in a row fail it. */
const CANARY_WATCH_MS = 1000;
const CANARY_MISSES = 3;

/** A new instance as submit hands it to healthy (step outputs). */
type StartedInstance = StartedContainer & GateInstance;

/** The saga action recorded when a deploy's instances passed the gate (what recovery after a crash reads). */
export const GATE_PASSED = 'runtime.healthy';

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  readonly canary: DockerCanaries;

  constructor(
    private readonly config: DockerRuntimeConfig,
    private readonly deps: DockerRuntimeDeps,
  ) {
    this.canary = deps.canaries ?? new DockerCanaries();
  }

  async submit(ctx: StepContext) {
    const plan = await this.planFor(ctx);
    const image = plan.image;
    if (!(await this.deps.containers.hasImage(image))) {
      ctx.report(`pulling ${image}`);
      await this.deps.containers.pull(image).catch((err: unknown) => {
        throw new StepFailedError('submit', `image ${image} is not on the engine and could not be pulled: ${errorMessage(err)}`, undefined, { cause: err });
      });
    }
    const services = plan.processes.filter((p) => p.kind === 'service');
    const { countOf, isRunning } = await this.targets(ctx);
    const started: StartedInstance[] = [];
    try {
      for (const proc of services) {
        // A process with `canary` that runs already starts only its canaries now; the rest wait for promotion. A
        // first deploy has nothing to compare them to, so it starts every instance (as Nomad does).
        const canaries = ctx.spec.processes[proc.name]?.canary && isRunning(proc.name) ? Math.min(ctx.spec.processes[proc.name]!.canary!.count, countOf(proc)) : undefined;
        for (let index = 0; index < (canaries ?? countOf(proc)); index++) {
          ctx.signal.throwIfAborted();
          const inst = await this.start(plan, proc, ctx, index);
          started.push(canaries === undefined ? inst : { ...inst, canary: true });
        }
      }
    } catch (err) {
      await this.removeAll(started.map((s) => s.id));
      throw err instanceof StepFailedError ? err : new StepFailedError('submit', `could not start ${plan.app}: ${errorMessage(err)}`, undefined, { cause: err });
    }
    const what = started.map((s) => `${s.name}${s.address ? ` at ${s.address}` : ''}`);
    ctx.report(`started ${what.join(', ') || 'nothing (no service process)'} with image ${image}`, {
      action: 'runtime.started',
      metadata: {
        runtime: 'docker',
        image,
        instances: started,
      },
    });
    return done({ imageTag: image, runtime: 'docker', instances: started }, `started ${started.length} container(s)`);
  }

  async healthy(ctx: StepContext) {
    const started = instancesOf(ctx);
    if (started.length === 0) return skipped('no service process');
    // The gate needs each process's health check only: submit decrypted the secrets already, once is enough.
    const plan = await this.planFor(ctx, { withSecrets: false });
    const all: StartedInstance[] = [...started];
    let passed = false;
    try {
      if (started.some((s) => s.canary)) {
        const stage = await this.canaryStage(ctx, plan, started);
        try {
          await this.startRest(ctx, all);
          await this.gate(ctx, plan, all.slice(started.length), Date.now() + this.config.healthyDeadlineMs);
        } catch (err) {
          stage.close('failed', `promoted, but the rest of the new containers failed: ${errorMessage(err)}`);
          throw err;
        }
        stage.close('successful', `promoted; all ${all.length} new container(s) healthy`);
      } else {
        await this.gate(ctx, plan, started, Date.now() + this.config.healthyDeadlineMs);
      }
      passed = true;
    } finally {
      if (!passed) {
        await this.removeAll(all.map((s) => s.id));
        ctx.report(`removed the ${all.length} new container(s); the old ones were not touched`, { action: 'runtime.discarded' });
      }
    }
    ctx.report(`${all.length} new instance(s) healthy`, { action: GATE_PASSED, metadata: { instances: all.map((s) => s.id) } });
    return done({ instances: all }, `${all.length} instance(s) healthy for ${Math.round(this.config.minHealthyMs / 1000)}s`);
  }

  /**
   * Holds every instance to the gate until `deadline`. The first instance to fail decides: the others stop being
   * asked, and the step fails naming it (the caller removes the new containers; the old ones keep serving).
   */
  private async gate(ctx: StepContext, plan: AppPlan, instances: readonly StartedInstance[], deadline: number): Promise<void> {
    const stopGates = new AbortController();
    let failed: { inst: StartedInstance; outcome: Extract<GateOutcome, { ok: false }> } | undefined;
    const settled = await Promise.allSettled(
      instances.map(async (inst) => {
        const proc = plan.processes.find((p) => p.name === inst.process)!;
        const outcome = await gateInstance(inst, proc, {
          minHealthyMs: this.config.minHealthyMs,
          deadline,
          signal: AbortSignal.any([ctx.signal, stopGates.signal]),
          state: (id) => this.deps.containers.state(id),
        });
        ctx.report(`${inst.name} ${outcome.ok ? 'is healthy' : `failed its gate: ${outcome.lastAnswer}`}`, { action: 'runtime.instance', metadata: { id: inst.id, ok: outcome.ok } });
        if (!outcome.ok && !failed) {
          failed = { inst, outcome };
          stopGates.abort();
        }
      }),
    );
    ctx.signal.throwIfAborted();
    if (failed) {
      const { inst, outcome } = failed;
      const why = outcome.exited ? outcome.lastAnswer : `not healthy for ${Math.round(this.config.minHealthyMs / 1000)}s within ${Math.round(this.config.healthyDeadlineMs / 1000)}s; last answer: ${outcome.lastAnswer}`;
      throw await this.gateFailure(ctx, inst, why);
    }
    const broken = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (broken) throw broken.reason;
  }

  /** The step's failure when an instance failed: its last output, and that the previous version keeps serving. */
  private async gateFailure(ctx: StepContext, inst: StartedInstance, why: string): Promise<StepFailedError> {
    const logTail = await this.deps.containers.logs(inst.id, 20).catch(() => '');
    // The old containers keep serving: an automatic rollback. After a migration they run on the migrated database.
    const undo = migrationUndoNotice(ctx);
    if (undo) ctx.report(`the previous version keeps serving; ${undo.text}`, { action: 'deploy.rollback', metadata: { by: 'docker', ...undo.detail } });
    return new StepFailedError('healthy', `${undo ? `${undo.text}; ` : ''}${inst.name} (${inst.process}): ${why}; the previous version keeps serving`, {
      instance: inst.id,
      process: inst.process,
      lastAnswer: why,
      logTail: logTail.slice(-2000),
      ...undo?.detail,
    });
  }

  /**
   * The canary stage: the canaries pass the gate beside the old containers (which keep serving; the ingress is not
   * touched), then wait for `norn promote`, `norn canary fail`, or evaluateAfter counted from their start (then
   * they are promoted, being healthy). A canary that exits or stops answering its check fails the deploy at once.
   * Returns the open stage once promoted; throws when the canaries failed.
   */
  private async canaryStage(ctx: StepContext, plan: AppPlan, started: readonly StartedInstance[]) {
    const canaries = started.filter((s) => s.canary);
    const processes = [...new Set(canaries.map((c) => c.process))].sort();
    const { countOf } = await this.targets(ctx);
    const groupsWith = (healthy: (process: string) => number) =>
      processes.map((process) => {
        const placed = canaries.filter((c) => c.process === process).length;
        const h = healthy(process);
        return { group: process, desiredCanaries: placed, placedCanaries: placed, healthy: h, unhealthy: placed - h, desiredTotal: countOf(plan.processes.find((p) => p.name === process)!), promoted: false };
      });
    const asked = Math.max(...processes.map((p) => parseGoDuration(ctx.spec.processes[p]?.canary?.evaluateAfter ?? DEFAULT_CANARY_WINDOW)));
    // The step's time limit leaves room for the canaries' gate, their window and the rest's gate, not more.
    const windowMs = Math.min(this.config.healthyDeadlineMs, asked);
    if (asked > windowMs) {
      ctx.report(
        `canary.evaluateAfter ${Math.round(asked / 1000)}s is longer than the health deadline (NORN_HEALTHY_DEADLINE_SECONDS, ${Math.round(windowMs / 1000)}s): ` +
          `the canaries are promoted after ${Math.round(windowMs / 1000)}s unless an operator decides first; raise NORN_HEALTHY_DEADLINE_SECONDS to watch them longer`,
        { action: 'canary.window-capped', metadata: { processes } },
      );
    }
    const promoteAt = Date.now() + windowMs;
    const stage = this.canary.open(ctx.app, ctx.sagaId, groupsWith(() => 0));
    const list = processes.map((p) => `"${p}"`).join(', ');
    ctx.report(`canaries of ${list} (${canaries.map((c) => c.name).join(', ')}) run beside the running version, which keeps serving; waiting for them to be healthy`, {
      action: 'canary.placed',
      metadata: { deploymentId: ctx.sagaId, groups: processes },
    });
    const failedByOperator = () => {
      ctx.report(`canaries of ${list} failed by an operator (norn canary fail)`, { action: 'canary.failed', metadata: { by: 'operator', deploymentId: ctx.sagaId } });
      return new StepFailedError('healthy', `canaries of ${list} failed by an operator (norn canary fail); the previous version keeps serving`, { by: 'operator' });
    };
    // An operator may fail the canaries before they passed their gate: that ends the gate at once.
    const operatorFailed = new AbortController();
    void stage.verdict.then((v) => v.outcome === 'failed' && operatorFailed.abort());
    try {
      try {
        await this.gate({ ...ctx, signal: AbortSignal.any([ctx.signal, operatorFailed.signal]) }, plan, canaries, Date.now() + this.config.healthyDeadlineMs);
      } catch (err) {
        if (operatorFailed.signal.aborted && !ctx.signal.aborted) throw failedByOperator();
        throw err;
      }
      stage.update(groupsWith((p) => canaries.filter((c) => c.process === p).length), { ready: true, description: 'canaries healthy, waiting for promotion' });
      const at = new Date(promoteAt).toISOString();
      ctx.report(
        `canaries of ${list} are healthy; waiting for promotion: \`norn promote ${ctx.app}\` starts the rest and replaces the old containers, \`norn canary fail ${ctx.app}\` removes the canaries; ` +
          `otherwise Norn promotes them at ${at} (evaluateAfter ${Math.round(windowMs / 1000)}s)`,
        { action: 'canary.waiting', metadata: { deploymentId: ctx.sagaId, promoteAt: at, evaluateAfterMs: windowMs } },
      );
      const verdict = await this.watchCanaries(ctx, plan, canaries, stage, promoteAt);
      if (verdict.outcome === 'failed') throw failedByOperator();
      const why = verdict.by === 'operator' ? 'promoted by an operator (norn promote)' : `healthy ${Math.round(windowMs / 1000)}s (evaluateAfter) after they started: promoting`;
      ctx.report(`canaries of ${list} ${why}; starting the rest of the new containers`, { action: 'canary.promoted', metadata: { by: verdict.by, deploymentId: ctx.sagaId } });
      stage.update(groupsWith((p) => canaries.filter((c) => c.process === p).length).map((g) => ({ ...g, promoted: true })), { description: `promoted (${verdict.by}): starting the rest of the new containers` });
      return stage;
    } catch (err) {
      stage.close('failed', err instanceof StepFailedError ? err.message : `ended: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** Waits for an operator's decision or `promoteAt`, watching the canaries meanwhile. */
  private async watchCanaries(ctx: StepContext, plan: AppPlan, canaries: readonly StartedInstance[], stage: OpenStage, promoteAt: number): Promise<{ outcome: 'promoted' | 'failed'; by: 'operator' | 'evaluateAfter' }> {
    const misses = new Map<string, number>();
    for (;;) {
      const left = promoteAt - Date.now();
      if (left <= 0) return { outcome: 'promoted', by: 'evaluateAfter' };
      const tick = new AbortController();
      const verdict = await Promise.race([
        stage.verdict,
        delay(Math.min(left, CANARY_WATCH_MS), undefined, { signal: AbortSignal.any([ctx.signal, tick.signal]) }).then(() => undefined),
      ]).finally(() => tick.abort());
      if (verdict) return verdict;
      for (const inst of canaries) {
        const state = await this.deps.containers.state(inst.id);
        const proc = plan.processes.find((p) => p.name === inst.process)!;
        let why: string | undefined;
        if (!state) why = 'the container is gone';
        else if (!state.running || state.restartCount > 0) why = state.running ? `it restarted ${state.restartCount} time(s)` : `it ${state.status} with code ${state.exitCode}`;
        else {
          const answer = await check(inst, proc, ctx.signal);
          misses.set(inst.id, answer.ok ? 0 : (misses.get(inst.id) ?? 0) + 1);
          // One missed answer on a loaded host is noise; a run of them is a sick canary.
          if ((misses.get(inst.id) ?? 0) >= CANARY_MISSES) why = `${CANARY_MISSES} health checks in a row failed; last answer: ${answer.text}`;
        }
        if (why) {
          ctx.report(`canary ${inst.name} (${inst.process}) is unhealthy: ${why}; failing the canaries`, { action: 'canary.failed', metadata: { by: 'health', group: inst.process, deploymentId: ctx.sagaId } });
          throw await this.gateFailure(ctx, inst, `canary unhealthy: ${why}`);
        }
      }
    }
  }

  /** After promotion: starts the instances each canary process still lacks, adding each to `all` as it starts. */
  private async startRest(ctx: StepContext, all: StartedInstance[]): Promise<void> {
    const plan = await this.planFor(ctx);
    const { countOf } = await this.targets(ctx);
    const before = all.length;
    for (const process of [...new Set(all.filter((s) => s.canary).map((s) => s.process))]) {
      const proc = plan.processes.find((p) => p.name === process)!;
      for (let index = all.filter((s) => s.process === process).length; index < countOf(proc); index++) {
        ctx.signal.throwIfAborted();
        all.push(await this.start(plan, proc, ctx, index));
      }
    }
    const rest = all.slice(before);
    if (rest.length > 0) ctx.report(`started ${rest.map((s) => s.name).join(', ')} with image ${plan.image}`, { action: 'runtime.started', metadata: { runtime: 'docker', image: plan.image, instances: rest } });
  }

  /**
   * How many instances each process runs after this deploy. A count set with `norn scale` outlives the deploy: a
   * process already running keeps its number of instances (those of its newest deploy, whose saga label scaled
   * copies share), a new one starts with the spec's. This deploy's own containers do not count.
   */
  private async targets(ctx: StepContext) {
    const running = (await this.service(ctx.app)).filter((c) => c.state === 'running' && c.labels[LABEL.saga] !== ctx.sagaId).sort((a, b) => b.created - a.created);
    const countOf = (proc: PlannedProcess) => {
      const mine = running.filter((c) => c.labels[LABEL.process] === proc.name);
      return mine.filter((c) => c.labels[LABEL.saga] === mine[0]?.labels[LABEL.saga]).length || proc.count;
    };
    return { countOf, isRunning: (process: string) => running.some((c) => c.labels[LABEL.process] === process) };
  }

  async retire(ctx: StepContext) {
    const keep = new Set(instancesOf(ctx).map((s) => s.id));
    if (keep.size === 0) return;
    const old = (await this.service(ctx.app)).filter((c) => c.labels[LABEL.saga] !== ctx.sagaId && !keep.has(c.id));
    if (old.length === 0) return;
    ctx.report(`draining ${old.map((c) => c.name).join(', ')}`);
    await this.removeAll(old.map((c) => c.id));
    ctx.report(`removed ${old.length} old container(s)`, { action: 'runtime.retired', metadata: { containers: old.map((c) => c.id) } });
  }

  async discard(ctx: StepContext) {
    const ids = instancesOf(ctx).map((s) => s.id);
    if (ids.length === 0) return;
    await this.removeAll(ids);
    ctx.report(`removed the ${ids.length} new container(s); the old ones keep serving`, { action: 'runtime.discarded' });
  }

  async plan(ctx: StepContext) {
    const plan = await this.planFor(ctx);
    for (const p of plan.processes) {
      const what = p.kind === 'service' ? `${p.count} container(s)${p.port !== undefined ? `, port ${p.port}` : ''}${p.health ? `, health ${p.health.path}` : ''}` : p.kind === 'scheduled' ? `runs on "${p.schedule!.cron}"` : 'runs when invoked';
      ctx.report(`${p.name}: ${what}, ${p.memoryMb} MB, ${p.cpuMhz} MHz`, { action: 'runtime.planned', metadata: { process: p.name, kind: p.kind } });
    }
    return done({}, `would start ${plan.processes.filter((p) => p.kind === 'service').reduce((n, p) => n + p.count, 0)} container(s) on the Docker engine`);
  }

  readonly serviceAddress = async (spec: AppSpec) => {
    const process = routedProcess(spec);
    if (!process) throw new StepFailedError('forge', `${spec.name} has endpoints but no process listens on a port`);
    const running = (await this.service(spec.name)).filter((c) => c.labels[LABEL.process] === process && c.state === 'running').sort((a, b) => b.created - a.created);
    const newest = running[0];
    const address = newest && this.addressOf(newest, spec.processes[process]?.port);
    if (!newest || !address) throw new StepFailedError('forge', `no running container of ${spec.name} (process ${process}) on the Docker engine`);
    const i = address.lastIndexOf(':');
    const sameDeploy = running.filter((c) => c.labels[LABEL.saga] === newest.labels[LABEL.saga]).length;
    return { process, address: address.slice(0, i), port: Number(address.slice(i + 1)), source: 'docker' as const, instance: newest.id.slice(0, 12), healthyInstances: sameDeploy };
  };

  async instances(app: string): Promise<RuntimeInstance[]> {
    const spec = this.deps.specOf(app);
    const found = (await this.service(app)).sort((a, b) => a.labels[LABEL.process]!.localeCompare(b.labels[LABEL.process]!) || a.created - b.created);
    return Promise.all(
      found.map(async (c): Promise<RuntimeInstance> => {
        const process = c.labels[LABEL.process]!;
        const proc = spec?.processes[process];
        const address = this.addressOf(c, proc?.port) ?? null;
        let healthy: boolean | null = c.state === 'running' ? null : false;
        if (c.state === 'running' && proc) {
          // A quick ask for a listing: the spec's path, at most 2 s.
          const health = proc.health ? { path: proc.health.path, intervalMs: 0, timeoutMs: Math.min(2000, parseGoDuration(proc.health.timeout)) } : undefined;
          healthy = (await check({ id: c.id, process, address: address ?? undefined }, { health })).ok;
        }
        return { process, id: c.id.slice(0, 12), address, image: c.image, commitSha: c.labels[LABEL.commit] ?? null, state: c.state, healthy };
      }),
    );
  }

  async stop(app: string) {
    const all = await this.deps.containers.list({ [LABEL.app]: app });
    await this.removeAll(all.map((c) => c.id));
    return { stopped: all.length };
  }

  async previewStop(app: string) {
    return { stops: (await this.deps.containers.list({ [LABEL.app]: app })).length };
  }

  async logs(app: string, instanceId: string, opts: { tail: number }) {
    const c = (await this.deps.containers.list({ [LABEL.app]: app })).find((x) => x.id.startsWith(instanceId));
    if (!c || instanceId.length < 6) throw new NotFoundError('instance', instanceId.slice(0, 64));
    return this.deps.containers.logs(c.id, opts.tail);
  }

  async *streamLogs(app: string, request: LogRequest): AsyncGenerator<LogLine> {
    const found = (await this.service(app))
      .filter((c) => request.process === undefined || c.labels[LABEL.process] === request.process)
      .sort((a, b) => a.labels[LABEL.process]!.localeCompare(b.labels[LABEL.process]!) || a.created - b.created);
    yield* mergeLogSources(found.map((c) => containerLogLines(this.deps.containers, c, request)));
  }

  scale(request: ScaleRequest) {
    return scaleContainers(this.config, this.deps, request);
  }

  restart(request: RestartRequest) {
    return restartContainers(this.config, this.deps, request);
  }

  async recoverInterrupted(deploy: { readonly id: string; readonly app: string }) {
    const all = await this.service(deploy.app);
    const mine = all.filter((c) => c.labels[LABEL.saga] === deploy.id);
    if (mine.length === 0) return undefined;
    const old = all.filter((c) => c.labels[LABEL.saga] !== deploy.id);
    // The ingress decides when it routes to one of the two sets: that set is what serves. Otherwise the gate does.
    const routed = new Set((await this.deps.routedServices(deploy.app).catch(() => undefined)) ?? []);
    const spec = this.deps.specOf(deploy.app);
    const isRouted = (c: ContainerSummary) => {
      const address = this.addressOf(c, spec?.processes[c.labels[LABEL.process]!]?.port);
      return address !== undefined && routed.has(`http://${address}`);
    };
    const passed = (await this.deps.sagaActions(deploy.id)).includes(GATE_PASSED);
    const keepNew = mine.some(isRouted) || (passed && !old.some(isRouted));
    if (keepNew) {
      // The new version had passed its gate: finish the replacement rather than go back.
      await this.removeAll(old.map((c) => c.id));
      const why = mine.some(isRouted) ? 'the ingress already routed to them' : 'they had passed the health gate';
      return `its ${mine.length} new container(s) were kept (${why}); ${old.length} old one(s) removed`;
    }
    await this.removeAll(mine.map((c) => c.id));
    return `removed the ${mine.length} container(s) it had started; ${old.length} container(s) of the previous version keep running`;
  }

  async runOnce(run: OneOffRun): Promise<OneOffOutcome> {
    const secrets = await this.deps.loadSecrets(run.specDir);
    const plan = planApp({ spec: run.spec, image: run.image, secrets: secrets?.env ?? {}, appPostgresUrl: this.config.appPostgresUrl });
    const proc = plan.processes.find((p) => p.name === run.process);
    if (!proc || proc.kind === 'service') throw new NotFoundError('scheduled or function process', run.process);
    // A one-off run listens on nothing: `host` shares the host's network, `bridge` the engine's default one.
    const options = containerOptions(plan, proc, { sagaId: run.sagaId, commitSha: run.commitSha, index: 0, network: this.config.network, role: 'run', args: run.args });
    const started = Date.now();
    const id = run.payload
      ? await this.deps.containers.runWithFile({ ...options, Env: [...(options.Env ?? []), `NORN_PAYLOAD_FILE=${DOCKER_PAYLOAD_FILE}`] }, { path: DOCKER_PAYLOAD_FILE, content: run.payload })
      : await this.deps.containers.run(options);
    try {
      const outcome = await this.deps.containers.waitExit(id, run.timeoutMs);
      const logTail = (await this.deps.containers.logs(id, 50).catch((err: unknown) => `(no output: ${errorMessage(err)})`)).slice(-4000);
      return { exitCode: outcome.timedOut ? null : outcome.exitCode, timedOut: outcome.timedOut, logTail, durationMs: Date.now() - started };
    } finally {
      await this.deps.containers.stopAndRemove(id).catch((err: unknown) => this.deps.log.error({ err: errorMessage(err), container: id }, 'could not remove a one-off container'));
    }
  }

  private async start(plan: AppPlan, proc: PlannedProcess, ctx: StepContext, index: number): Promise<StartedInstance> {
    const hostPort = this.config.network === 'host' && proc.port !== undefined ? await this.deps.freePort() : undefined;
    const options = containerOptions(plan, proc, { sagaId: ctx.sagaId, commitSha: ctx.commitSha, index, network: this.config.network, hostPort });
    const id = await this.deps.containers.run(options);
    let address: string | undefined;
    if (proc.port !== undefined) {
      if (hostPort !== undefined) address = `127.0.0.1:${hostPort}`;
      else {
        const summary = (await this.deps.containers.list({ [LABEL.saga]: ctx.sagaId })).find((c) => c.id === id);
        const published = summary?.published[proc.port];
        if (!published) throw new StepFailedError('submit', `${options.name}: the engine published no host port for ${proc.port}`);
        address = `127.0.0.1:${published}`;
      }
    }
    return { id, name: options.name!, process: proc.name, ...(address ? { address } : {}) };
  }

  private async planFor(ctx: StepContext, opts: { withSecrets: boolean } = { withSecrets: true }): Promise<AppPlan> {
    const image = ctx.outputs.imageTag ?? prebuiltImage(ctx.spec);
    const secrets = opts.withSecrets ? await this.deps.loadSecrets(ctx.specDir) : undefined;
    return planApp({ spec: ctx.spec, image, secrets: secrets?.env ?? {}, appPostgresUrl: this.config.appPostgresUrl });
  }

  private service(app: string): Promise<ContainerSummary[]> {
    return this.deps.containers.list({ [LABEL.app]: app, [LABEL.role]: 'service' });
  }

  private addressOf(c: ContainerSummary, port: number | undefined): string | undefined {
    if (c.labels[LABEL.hostPort]) return `127.0.0.1:${c.labels[LABEL.hostPort]}`;
    const published = port !== undefined ? c.published[port] : undefined;
    return published ? `127.0.0.1:${published}` : undefined;
  }

  /** Removes containers in parallel; one that cannot be removed is logged, the others still go. */
  private async removeAll(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) => this.deps.containers.stopAndRemove(id).catch((err: unknown) => this.deps.log.error({ err: errorMessage(err), container: id }, 'could not remove a container'))),
    );
  }
}

/** The containers submit started (none when submit ran on another runtime). */
function instancesOf(ctx: StepContext): readonly StartedContainer[] {
  return ctx.outputs.instances ?? [];
}
