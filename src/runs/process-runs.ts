// One-off runs of an app's scheduled and function processes, on the runtime that runs them (Docker): each run is
// its own saga in the log, `run.start` then `run.complete` (exit code 0) or `run.failed`, with the exit code, the
// duration and the tail of its output, so runs show in `norn runs`, the saga views and the dashboard's feed.
// Arguments of an invocation are not recorded (a caller may pass something secret); only their count is.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LoadedApp } from '../apps/load-app-specs.js';
import { parseGoDuration } from '../apps/go-duration.js';
import { prebuiltImage, processKind } from '../apps/infraspec-schema.js';
import { errorMessage, InvalidInputError, NotFoundError } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';
import type { RuntimeSource } from '../pipeline/runtime.js';

/** `schedule`: its cron spec was due; `manual`: run now (`norn cron <app> run`); `invoke`: a function invoked. */
export type RunTrigger = 'schedule' | 'manual' | 'invoke';

export interface RunRecord {
  readonly sagaId: string;
  readonly app: string;
  readonly process: string;
  readonly trigger: RunTrigger;
  readonly image: string;
  readonly startedAt: string;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number | null;
  readonly logTail: string;
  readonly error?: string;
  /** On Nomad: the child job (`<app>-<process>/periodic-…` or `/dispatch-…`) this run is. */
  readonly nomadJobId?: string;
}

export interface RunInput {
  /** Appended to the command as `"$@"` (Docker only). */
  readonly args?: readonly string[];
  /** A function's input, handed over as the file named by NORN_PAYLOAD_FILE. */
  readonly payload?: Uint8Array;
}

/** A run that has started: its saga, and its record once it ended. */
export interface StartedRun {
  readonly sagaId: string;
  readonly startedAt: string;
  readonly image: string;
  readonly done: Promise<RunRecord>;
}

/** A function's limit when its spec names none; scheduled runs get the step timeout's default. */
export const DEFAULT_RUN_TIMEOUT_MS = 15 * 60_000;

export class ProcessRuns {
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: { runtime: RuntimeSource; sagaLog: SagaLog; currentImage(app: string): Promise<string | undefined>; log: Logger }) {}

  /** Whether a run of `app`'s `process` is going on in this receiver. */
  isRunning(app: string, process: string): boolean {
    return this.inFlight.has(`${app}/${process}`);
  }

  /** Runs to completion and answers the record (the schedule runner, `norn invoke`). */
  async run(app: LoadedApp, process: string, trigger: RunTrigger, args: readonly string[] = [], payload?: Uint8Array): Promise<RunRecord> {
    return (await this.start(app, process, trigger, { args, payload })).done;
  }

  /** Checks the request, records `run.start` and starts the run; resolves once it started, with its end in `done`. */
  async start(app: LoadedApp, process: string, trigger: RunTrigger, input: RunInput = {}): Promise<StartedRun> {
    const proc = app.spec.processes[process];
    const kind = proc && processKind(proc);
    if (!proc || kind === 'service') throw new NotFoundError('scheduled or function process', `${app.name}/${process}`);
    if (trigger === 'invoke' && kind !== 'function') throw new InvalidInputError('process', `${process} is not a function process (it has a schedule)`, 409);
    if (trigger === 'manual' && kind !== 'scheduled') throw new InvalidInputError('process', `${process} is a function process: invoke it (norn invoke ${app.name} ${process})`, 409);
    const runtime = await this.deps.runtime.current();
    if (!runtime?.runOnce) {
      throw new InvalidInputError('runtime', `${runtime ? `the ${runtime.name} runtime runs scheduled processes itself and has no on-demand runs` : 'no runtime is available'}; invocations need the Docker runtime`, 409);
    }
    const image = (await this.deps.currentImage(app.name)) ?? (app.spec.build ? app.spec.image : prebuiltImage(app.spec));
    if (!image) throw new InvalidInputError('image', `${app.name} has no succeeded deploy yet, so there is no image to run ${process} with`, 409);
    const timeoutMs = proc.function?.timeout ? parseGoDuration(proc.function.timeout) : DEFAULT_RUN_TIMEOUT_MS;
    const args = input.args ?? [];
    const sagaId = randomUUID();
    const base = { sagaId, app: app.name, source: 'runtime', category: 'run' } as const;
    const startedAt = new Date().toISOString();
    const meta = { process, trigger, image, args: args.length, ...(input.payload ? { payloadBytes: input.payload.byteLength } : {}) };
    await this.deps.sagaLog.append({ ...base, action: 'run.start', message: `${process} started (${trigger}) with ${image}`, metadata: meta });
    const key = `${app.name}/${process}`;
    this.inFlight.add(key);
    const done = (async (): Promise<RunRecord> => {
      try {
        const outcome = await runtime.runOnce!({ spec: app.spec, specDir: app.dir, process, image, sagaId, commitSha: '', args, timeoutMs, payload: input.payload });
        const ok = outcome.exitCode === 0;
        const how = outcome.timedOut ? `was stopped after ${Math.round(timeoutMs / 1000)}s` : `exited with code ${outcome.exitCode}`;
        await this.deps.sagaLog.append({
          ...base,
          action: ok ? 'run.complete' : 'run.failed',
          message: `${process} ${how} in ${(outcome.durationMs / 1000).toFixed(1)}s`,
          metadata: { ...meta, exitCode: outcome.exitCode, timedOut: outcome.timedOut, durationMs: outcome.durationMs, logTail: outcome.logTail },
        });
        return { sagaId, app: app.name, process, trigger, image, startedAt, status: ok ? 'succeeded' : 'failed', ...outcome };
      } catch (err) {
        const error = errorMessage(err);
        await this.deps.sagaLog.append({ ...base, action: 'run.failed', message: `${process} could not run: ${error}`, metadata: { ...meta, error } });
        return { sagaId, app: app.name, process, trigger, image, startedAt, status: 'failed', exitCode: null, timedOut: false, durationMs: null, logTail: '', error };
      } finally {
        this.inFlight.delete(key);
      }
    })();
    return { sagaId, startedAt, image, done };
  }

  /** The app's recent runs, newest first, from the saga log. */
  async recent(app: string, limit: number): Promise<RunRecord[]> {
    const events = (await this.deps.sagaLog.recent({ app, limit: 5000 })).filter((e) => e.category === 'run');
    const runs = new Map<string, RunRecord>();
    for (const e of events) {
      const m = e.metadata as Record<string, unknown>;
      const prev = runs.get(e.sagaId);
      const startedAt = prev?.startedAt ?? e.timestamp;
      const common = {
        sagaId: e.sagaId,
        app,
        process: String(m.process),
        trigger: m.trigger as RunTrigger,
        image: String(m.image),
        startedAt,
        ...(typeof m.nomadJobId === 'string' ? { nomadJobId: m.nomadJobId } : {}),
      };
      if (e.action === 'run.start') runs.set(e.sagaId, { ...common, status: 'running', exitCode: null, timedOut: false, durationMs: null, logTail: '' });
      else {
        runs.set(e.sagaId, {
          ...common,
          status: e.action === 'run.complete' ? 'succeeded' : 'failed',
          exitCode: typeof m.exitCode === 'number' ? m.exitCode : null,
          timedOut: m.timedOut === true,
          durationMs: typeof m.durationMs === 'number' ? m.durationMs : null,
          logTail: typeof m.logTail === 'string' ? m.logTail : '',
          ...(typeof m.error === 'string' ? { error: m.error } : {}),
        });
      }
    }
    return [...runs.values()].reverse().slice(0, limit);
  }
}
