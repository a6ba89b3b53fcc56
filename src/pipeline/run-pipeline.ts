// Runs one run's steps in order: applies each step's time limit, stops at the first failure, always runs cleanup,
// and returns how the run ended. What happens on the way goes to a `PipelineReporter` (the deploy lifecycle
// implements it and writes the saga and the deploy's record); steps report through `report`, so neither the runner
// nor a step writes to the saga log or knows about deploys.
import type { Logger } from 'pino';
import type { AppSpec } from '../apps/infraspec-schema.js';
import { errorMessage, StepFailedError, StepTimeoutError } from '../errors.js';
import type { Step, StepName, StepOutputs, StepProgress } from './step.js';

/** The run the steps work on; a deploy record is one. */
export interface PipelineRun {
  /** The saga id. */
  readonly id: string;
  readonly app: string;
  readonly ref: string;
  readonly commitSha: string;
  readonly cloneUrl: string;
}

/** How a step ended, as the runner saw it. */
export type StepEnd =
  | { readonly status: 'complete'; readonly durationMs: number; readonly message?: string }
  | { readonly status: 'skipped'; readonly durationMs: number; readonly reason: string }
  | { readonly status: 'failed'; readonly durationMs: number; readonly error: string; readonly detail?: Readonly<Record<string, unknown>> };

/**
 * Where the runner reports, in the order things happen. `stepStarted` resolves once the start is recorded (the
 * step runs only then); the other calls do not make the run wait, and `settled` resolves once all are recorded.
 */
export interface PipelineReporter {
  stepStarted(step: StepName): Promise<void>;
  progress(step: StepName, message: string, progress?: StepProgress): void;
  stepEnded(step: StepName, end: StepEnd): void;
  settled(): Promise<void>;
}

export interface PipelineDeps {
  readonly report: PipelineReporter;
  readonly log: Logger;
  readonly timeoutMs: (step: StepName) => number;
  /** Masks configured secrets in a step's error before it is reported and logged. */
  readonly redact?: (text: string) => string;
}

export interface PipelineInput {
  readonly run: PipelineRun;
  readonly spec: AppSpec;
  readonly specDir: string;
  /** The steps to run, in order, without cleanup. */
  readonly steps: readonly Step[];
  readonly cleanup: Step;
  /** Aborted when the run must stop (shutdown, lost lease); the run then ends as interrupted. */
  readonly signal: AbortSignal;
}

/**
 * How a run ended. The outputs are those of the steps that completed, kept on failure too: `norn status` shows an
 * image that was built and pushed but never went live.
 */
export type PipelineOutcome =
  | { readonly status: 'succeeded'; readonly outputs: StepOutputs; readonly durationMs: number }
  | { readonly status: 'failed' | 'interrupted'; readonly step: StepName; readonly error: string; readonly outputs: StepOutputs; readonly durationMs: number };

export async function runPipeline(input: PipelineInput, deps: PipelineDeps): Promise<PipelineOutcome> {
  const log = deps.log.child({ sagaId: input.run.id, app: input.run.app });
  const started = Date.now();
  let outputs: StepOutputs = {};
  let failure: { status: 'failed' | 'interrupted'; step: StepName; error: string } | undefined;
  try {
    for (const step of input.steps) {
      const result = await runStep(step, input, outputs, deps, log);
      if (result.status === 'failed') {
        failure = { status: input.signal.aborted ? 'interrupted' : 'failed', step: step.name, error: result.error };
        break;
      }
      outputs = { ...outputs, ...result.outputs };
    }
  } finally {
    const cleanup = await runStep(input.cleanup, { ...input, signal: new AbortController().signal }, outputs, deps, log);
    if (!failure && cleanup.status === 'failed') failure = { status: 'failed', step: 'cleanup', error: cleanup.error };
  }
  await deps.report.settled();
  const durationMs = Date.now() - started;
  const outcome: PipelineOutcome = failure ? { ...failure, outputs, durationMs } : { status: 'succeeded', outputs, durationMs };
  log.info({ outcome: outcome.status, durationMs }, 'pipeline ended');
  return outcome;
}

type StepRunResult = { status: 'complete' | 'skipped'; outputs: StepOutputs } | { status: 'failed'; error: string };

async function runStep(step: Step, input: PipelineInput, outputs: StepOutputs, deps: PipelineDeps, log: Logger): Promise<StepRunResult> {
  await deps.report.stepStarted(step.name);
  const timeoutMs = deps.timeoutMs(step.name);
  const stepAbort = new AbortController();
  const onOuterAbort = () => stepAbort.abort(input.signal.reason);
  input.signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => stepAbort.abort(new StepTimeoutError(step.name, timeoutMs)), timeoutMs);
  const started = Date.now();
  try {
    const aborted = new Promise<never>((_, reject) => {
      if (stepAbort.signal.aborted) reject(stepAbort.signal.reason);
      stepAbort.signal.addEventListener('abort', () => reject(stepAbort.signal.reason), { once: true });
    });
    const { run } = input;
    const result = await Promise.race([
      step.run({
        sagaId: run.id,
        app: run.app,
        spec: input.spec,
        specDir: input.specDir,
        ref: run.ref,
        commitSha: run.commitSha,
        cloneUrl: run.cloneUrl,
        signal: stepAbort.signal,
        outputs,
        report: (message, progress) => deps.report.progress(step.name, message, progress),
      }),
      aborted,
    ]);
    const durationMs = Date.now() - started;
    if (result.status === 'skipped') {
      deps.report.stepEnded(step.name, { status: 'skipped', durationMs, reason: result.reason });
      return { status: 'skipped', outputs: {} };
    }
    deps.report.stepEnded(step.name, { status: 'complete', durationMs, message: result.message });
    return { status: 'complete', outputs: result.outputs };
  } catch (err) {
    const durationMs = Date.now() - started;
    const error = deps.redact ? deps.redact(errorMessage(err)) : errorMessage(err);
    const detail = err instanceof StepFailedError ? err.detail : undefined;
    log.warn({ step: step.name, err: error }, 'step failed');
    deps.report.stepEnded(step.name, { status: 'failed', durationMs, error, ...(detail ? { detail } : {}) });
    return { status: 'failed', error };
  } finally {
    clearTimeout(timer);
    input.signal.removeEventListener('abort', onOuterAbort);
  }
}
