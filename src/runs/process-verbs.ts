// The operator's verbs for scheduled and function processes, on whichever runtime runs the app:
//   history     Docker: the run sagas; Nomad: the periodic/dispatched child jobs (also the launches Nomad made on
//               its own schedule), with the saga of the ones this receiver started
//   run now     a scheduled process once, outside its schedule (trigger `manual`); answered once it started
//   invoke      a function with a payload (and, on Docker, arguments); answered when it ended
//   pause       a schedule stops launching (kept in the store: the Docker schedule runner skips it, and on Nomad the
//   resume      periodic job is registered disabled, now and by every deploy) until it is resumed
// Runs keep their run sagas (`run.start` → `run.complete`/`run.failed`); pause and resume are operation sagas.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LoadedApp } from '../apps/load-app-specs.js';
import { parseGoDuration } from '../apps/go-duration.js';
import { processKind } from '../apps/infraspec-schema.js';
import { errorMessage, InvalidInputError, NotFoundError } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';
import { recordOperation } from '../operations/operation-saga.js';
import type { RuntimeSource } from '../pipeline/runtime.js';
import type { NomadBatchJobs, NomadBatchRun, PauseOutcome } from '../runtime/nomad-batch-jobs.js';
import { DEFAULT_RUN_TIMEOUT_MS, type ProcessRuns, type RunRecord, type RunTrigger } from './process-runs.js';
import type { SchedulePause, SchedulePauses } from './schedule-pauses.js';

/** Largest payload an invocation takes: Nomad's dispatch limit (16 KiB), the same on both runtimes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export interface ScheduleView {
  readonly process: string;
  readonly cron: string;
  readonly timeZone: string | null;
  readonly paused: SchedulePause | null;
}

export interface StartedManualRun {
  readonly sagaId: string;
  readonly process: string;
  readonly trigger: 'manual';
  readonly startedAt: string;
  readonly nomadJobId?: string;
}

export interface PauseAnswer {
  readonly sagaId: string;
  readonly process: string;
  readonly paused: boolean;
  /** False when it already was paused (or running, for resume). */
  readonly changed: boolean;
  /** What happened to Nomad's periodic job, on Nomad. */
  readonly nomad?: PauseOutcome;
}

export interface ProcessVerbsDeps {
  readonly runtime: RuntimeSource;
  readonly runs: ProcessRuns;
  readonly pauses: SchedulePauses;
  readonly sagaLog: SagaLog;
  readonly nomadJobs: NomadBatchJobs;
  currentImage(app: string): Promise<string | undefined>;
  readonly clock: () => Date;
  readonly log: Logger;
}

export class ProcessVerbs {
  /** Ends the following of Nomad runs when the receiver stops (Nomad keeps running them). */
  private readonly stopping = new AbortController();
  /** Docker runs started by run-now, awaited at stop as the schedule runner awaits its own. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly deps: ProcessVerbsDeps) {}

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the receiver is stopping'));
    await Promise.allSettled([...this.running]);
  }

  /** The app's scheduled processes with their cron spec and whether they are paused. */
  async schedules(app: LoadedApp): Promise<ScheduleView[]> {
    const paused = await this.deps.pauses.ofApp(app.name);
    return Object.entries(app.spec.processes)
      .filter(([, p]) => processKind(p) === 'scheduled')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, p]) => ({ process: name, cron: p.schedule!, timeZone: p.timezone ?? p.env?.TZ ?? app.spec.env?.TZ ?? null, paused: paused.get(name) ?? null }));
  }

  async history(app: LoadedApp, process: string, limit: number): Promise<RunRecord[]> {
    this.kindOf(app, process);
    const sagas = (await this.deps.runs.recent(app.name, 500)).filter((r) => r.process === process);
    if ((await this.runtimeName()) !== 'nomad') return sagas.slice(0, limit);
    const byJob = new Map(sagas.filter((r) => r.nomadJobId).map((r) => [r.nomadJobId!, r]));
    const launches = await this.deps.nomadJobs.history(app.name, process, limit);
    return launches.map((l) => fromNomad(app.name, process, l, byJob.get(l.nomadJobId)));
  }

  async runNow(app: LoadedApp, process: string): Promise<StartedManualRun> {
    if (this.kindOf(app, process) !== 'scheduled') throw new InvalidInputError('process', `${process} is a function process: invoke it (norn invoke ${app.name} ${process})`, 409);
    if (await this.deps.pauses.find(app.name, process)) {
      throw new InvalidInputError('process', `the schedule of ${process} is paused; resume it first (norn cron ${app.name} resume ${process})`, 409);
    }
    if ((await this.runtimeName()) === 'nomad') {
      const started = await this.nomadRun(app, process, 'manual', (signal) => this.deps.nomadJobs.runNow(app.name, process, signal), DEFAULT_RUN_TIMEOUT_MS, { stopAtTimeout: false });
      void started.done.catch((err: unknown) => this.deps.log.warn({ app: app.name, process, err: errorMessage(err) }, 'could not follow a run started on Nomad'));
      return { sagaId: started.sagaId, process, trigger: 'manual', startedAt: started.startedAt, nomadJobId: started.nomadJobId };
    }
    const started = await this.deps.runs.start(app, process, 'manual');
    const done = started.done.catch((err: unknown) => this.deps.log.warn({ app: app.name, process, err: errorMessage(err) }, 'manual run failed'));
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return { sagaId: started.sagaId, process, trigger: 'manual', startedAt: started.startedAt };
  }

  /** Runs a function to its end and answers its record; a non-zero exit is a failed run, not a failed request. */
  async invoke(app: LoadedApp, process: string, input: { args: readonly string[]; payload?: Uint8Array }): Promise<RunRecord> {
    if (this.kindOf(app, process) !== 'function') throw new InvalidInputError('process', `${process} is not a function process (it has a schedule)`, 409);
    if (input.payload && input.payload.byteLength > MAX_PAYLOAD_BYTES) throw new InvalidInputError('payload', `is ${input.payload.byteLength} bytes; at most ${MAX_PAYLOAD_BYTES} (16 KiB)`, 413);
    if ((await this.runtimeName()) !== 'nomad') return this.deps.runs.run(app, process, 'invoke', input.args, input.payload);
    if (input.args.length > 0) {
      throw new InvalidInputError('args', `arguments reach a function on the Docker runtime only; on Nomad send them in the payload (norn invoke ${app.name} ${process} --payload FILE)`, 409);
    }
    const timeout = app.spec.processes[process]!.function?.timeout;
    const timeoutMs = timeout ? parseGoDuration(timeout) : DEFAULT_RUN_TIMEOUT_MS;
    const started = await this.nomadRun(app, process, 'invoke', (signal) => this.deps.nomadJobs.dispatch(app.name, process, input.payload, signal), timeoutMs, { stopAtTimeout: true, payloadBytes: input.payload?.byteLength });
    return started.done;
  }

  pause(app: LoadedApp, process: string): Promise<PauseAnswer> {
    return this.setPaused(app, process, true);
  }

  resume(app: LoadedApp, process: string): Promise<PauseAnswer> {
    return this.setPaused(app, process, false);
  }

  private async setPaused(app: LoadedApp, process: string, paused: boolean): Promise<PauseAnswer> {
    if (this.kindOf(app, process) !== 'scheduled') throw new InvalidInputError('process', `${process} has no schedule to ${paused ? 'pause' : 'resume'}`, 409);
    const verb = paused ? 'cron pause' : 'cron resume';
    const isNomad = (await this.runtimeName()) === 'nomad';
    const { sagaId, result } = await recordOperation(this.deps.sagaLog, { app: app.name, verb, summary: `${paused ? 'pause' : 'resume'} the schedule of ${process}`, metadata: { process } }, async (report, sagaId) => {
      const changed = paused ? await this.deps.pauses.pause(app.name, process, { sagaId, at: this.deps.clock() }) : await this.deps.pauses.resume(app.name, process);
      let nomad: PauseOutcome | undefined;
      if (isNomad) {
        // Also when the store said "no change": Nomad may disagree (a job registered by an older receiver).
        nomad = await this.deps.nomadJobs.setPaused(app.name, process, paused);
        await report(nomadSentence(app.name, process, paused, nomad), { nomad });
      }
      const message = changed ? `${process} ${paused ? 'paused: it does not run on its schedule until resumed' : 'resumed: it runs on its schedule again'}` : `${process} was ${paused ? 'paused' : 'not paused'} already`;
      return { message, metadata: { process, changed, ...(nomad ? { nomad } : {}) }, result: { changed, nomad } };
    });
    return { sagaId, process, paused, changed: result.changed, ...(result.nomad ? { nomad: result.nomad } : {}) };
  }

  /**
   * A run of a Nomad job as a run saga: `run.start` once Nomad accepted the launch (or `run.failed` when it did not),
   * then `run.complete`/`run.failed` when its allocation ended. Past `timeoutMs` an invocation's child job is stopped;
   * a scheduled run is left to Nomad and its saga stays open (its history comes from Nomad).
   */
  private async nomadRun(
    app: LoadedApp,
    process: string,
    trigger: RunTrigger,
    launch: (signal?: AbortSignal) => Promise<string>,
    timeoutMs: number,
    opts: { stopAtTimeout: boolean; payloadBytes?: number },
  ): Promise<{ sagaId: string; startedAt: string; nomadJobId: string; done: Promise<RunRecord> }> {
    const image = (await this.deps.currentImage(app.name)) ?? '';
    const nomadJobId = await launch();
    const sagaId = randomUUID();
    const startedAt = new Date().toISOString();
    const base = { sagaId, app: app.name, source: 'runtime', category: 'run' } as const;
    const meta = { process, trigger, image, args: 0, nomadJobId, ...(opts.payloadBytes ? { payloadBytes: opts.payloadBytes } : {}) };
    await this.deps.sagaLog.append({ ...base, action: 'run.start', message: `${process} started (${trigger}) as Nomad job ${nomadJobId}`, metadata: meta });
    const done = (async (): Promise<RunRecord> => {
      const end = await this.deps.nomadJobs.waitForEnd(nomadJobId, { timeoutMs, signal: this.stopping.signal });
      if (end.timedOut && !opts.stopAtTimeout) return fromNomad(app.name, process, { ...end, status: 'running' }, { sagaId, trigger, image } as RunRecord);
      const ok = end.status === 'succeeded';
      const how = end.timedOut ? `was stopped after ${Math.round(timeoutMs / 1000)}s` : end.exitCode === null ? `failed: ${end.error ?? 'no exit code'}` : `exited with code ${end.exitCode}`;
      await this.deps.sagaLog.append({
        ...base,
        action: ok ? 'run.complete' : 'run.failed',
        message: `${process} ${how}${end.durationMs === null ? '' : ` in ${(end.durationMs / 1000).toFixed(1)}s`} (Nomad job ${nomadJobId})`,
        metadata: { ...meta, exitCode: end.exitCode, timedOut: end.timedOut, durationMs: end.durationMs, logTail: '', ...(end.allocationId ? { allocationId: end.allocationId } : {}) },
      });
      return fromNomad(app.name, process, end, { sagaId, trigger, image } as RunRecord);
    })();
    return { sagaId, startedAt, nomadJobId, done };
  }

  private kindOf(app: LoadedApp, process: string) {
    const proc = app.spec.processes[process];
    const kind = proc && processKind(proc);
    if (!proc || kind === 'service') throw new NotFoundError('scheduled or function process', `${app.name}/${process}`);
    return kind;
  }

  private async runtimeName(): Promise<string | undefined> {
    return (await this.deps.runtime.current())?.name;
  }
}

function fromNomad(app: string, process: string, run: NomadBatchRun & { timedOut?: boolean }, saga: Pick<RunRecord, 'sagaId' | 'trigger' | 'image'> | undefined): RunRecord {
  const trigger: RunTrigger = saga?.trigger ?? (run.nomadJobId.includes('/dispatch-') ? 'invoke' : 'schedule');
  return {
    sagaId: saga?.sagaId ?? '',
    app,
    process,
    trigger,
    image: saga?.image ?? '',
    startedAt: run.startedAt,
    status: run.status,
    exitCode: run.exitCode,
    timedOut: run.timedOut ?? false,
    durationMs: run.durationMs,
    // Nomad keeps a task's output in its allocation: `nomad alloc logs <allocationId>`.
    logTail: '',
    nomadJobId: run.nomadJobId,
    ...(run.error ? { error: run.error } : {}),
  };
}

function nomadSentence(app: string, process: string, paused: boolean, outcome: PauseOutcome): string {
  const id = `${app}-${process}`;
  switch (outcome) {
    case 'changed':
      return `periodic job ${id} registered ${paused ? 'disabled' : 'enabled'} in Nomad`;
    case 'unchanged':
      return `periodic job ${id} was ${paused ? 'disabled' : 'enabled'} in Nomad already`;
    case 'not registered':
      return `periodic job ${id} is not registered in Nomad yet; the next deploy registers it ${paused ? 'disabled' : 'enabled'}`;
    case 'stopped':
      return `periodic job ${id} is stopped in Nomad (nomad job stop); left alone, the next deploy registers it ${paused ? 'disabled' : 'enabled'}`;
  }
}
