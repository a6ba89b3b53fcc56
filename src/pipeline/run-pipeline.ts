// Runs one deploy's steps in order: records step.start/complete/skipped/failed with durations (the hub turns them
// into deploy.step), applies each step's time limit, stops at the first failure, and always runs cleanup.
// Steps report progress through `report`; only this runner writes to the saga log.
import type { Logger } from 'pino';
import type { AppSpec } from '../apps/infraspec-schema.js';
import type { DeployQueue } from '../deploys/deploy-queue.js';
import type { DeployRecord } from '../deploys/deploy-record.js';
import type { SagaLog } from '../events/saga-log.js';
import type { NewSagaEvent } from '../events/saga-event.js';
import { errorMessage, StepFailedError, StepTimeoutError } from '../errors.js';
import { STEP_NAMES, type Step, type StepName, type StepOutputs } from './step.js';

export interface PipelineDeps {
  readonly sagaLog: SagaLog;
  readonly queue: DeployQueue;
  readonly log: Logger;
  readonly timeoutMs: (step: StepName) => number;
  /** Masks configured secrets in a step's error before it is kept on the deploy record and logged. */
  readonly redact?: (text: string) => string;
}

export interface PipelineInput {
  readonly deploy: DeployRecord;
  readonly spec: AppSpec;
  readonly specDir: string;
  /** What the spec says that this deploy leaves aside (see spec-notices.ts); recorded once at the start. */
  readonly specWarnings?: readonly { readonly path: string; readonly reason: string }[];
  /** The steps to run, in order, without cleanup. */
  readonly steps: readonly Step[];
  readonly cleanup: Step;
  /** Aborted when the deploy must stop (shutdown, lost lease); the deploy then ends as interrupted. */
  readonly signal: AbortSignal;
}

export type PipelineOutcome =
  | { readonly status: 'succeeded'; readonly outputs: StepOutputs }
  | { readonly status: 'failed' | 'interrupted'; readonly step: StepName; readonly error: string };

class StepRun {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: PipelineDeps,
    private readonly deploy: DeployRecord,
  ) {}

  /** Appends in order without making the caller wait; `flush` waits for everything appended so far. */
  record(e: Omit<NewSagaEvent, 'sagaId' | 'app' | 'source'>): void {
    const event = { ...e, sagaId: this.deploy.id, app: this.deploy.app, source: 'pipeline' };
    this.chain = this.chain
      .then(() => this.deps.sagaLog.append(event))
      .catch((err) => this.deps.log.error({ err, sagaId: this.deploy.id }, 'could not append saga event'));
  }

  flush(): Promise<unknown> {
    return this.chain;
  }
}

export async function runPipeline(input: PipelineInput, deps: PipelineDeps): Promise<PipelineOutcome> {
  const { deploy } = input;
  const log = deps.log.child({ sagaId: deploy.id, app: deploy.app });
  const run = new StepRun(deps, deploy);
  const started = Date.now();
  run.record({ category: 'deploy', action: 'deploy.start', message: `${deploy.kind} of ${deploy.app} at ${deploy.commitSha.slice(0, 12)} started`, metadata: { commitSha: deploy.commitSha, ref: deploy.ref } });
  const warnings = input.specWarnings ?? [];
  if (warnings.length > 0) {
    const list = warnings.map((w) => `${w.path}: ${w.reason}`).join('; ');
    run.record({ category: 'deploy', action: 'spec.warnings', message: `spec of ${deploy.app}: ${warnings.length} warning(s): ${list}`, metadata: { warnings } });
  }
  let outputs: StepOutputs = {};
  let outcome: PipelineOutcome | undefined;
  try {
    for (const step of input.steps) {
      const result = await runStep(step, input, outputs, run, deps, log);
      if (result.status === 'failed') {
        outcome = { status: input.signal.aborted ? 'interrupted' : 'failed', step: step.name, error: result.error };
        break;
      }
      outputs = { ...outputs, ...result.outputs };
    }
  } finally {
    const cleanup = await runStep(input.cleanup, { ...input, signal: new AbortController().signal }, outputs, run, deps, log);
    if (!outcome && cleanup.status === 'failed') outcome = { status: 'failed', step: 'cleanup', error: cleanup.error };
  }
  outcome ??= { status: 'succeeded', outputs };
  await run.flush();
  const durationMs = Date.now() - started;
  // Kept on failed deploys too: `norn status` shows an image that was built and pushed but never went live.
  const imageTag = typeof outputs.imageTag === 'string' ? outputs.imageTag : undefined;
  if (outcome.status === 'succeeded') {
    // Set by the forge step when the app is live but its hostnames are not routed (no cloudflared config).
    const notRouted = typeof outputs.notRouted === 'string' ? outputs.notRouted : undefined;
    const routing = notRouted ? ` (live, not routed: ${notRouted})` : '';
    await deps.queue.finish(deploy.id, { status: 'succeeded', imageTag }, {
      sagaId: deploy.id, app: deploy.app, source: 'pipeline', category: 'deploy', action: 'deploy.complete',
      message: `${deploy.kind} of ${deploy.app} succeeded in ${(durationMs / 1000).toFixed(1)}s${routing}`, metadata: { imageTag: imageTag ?? null, durationMs, ...(notRouted ? { notRouted } : {}) },
    });
  } else {
    const action = outcome.status === 'interrupted' ? 'deploy.interrupted' : 'deploy.failed';
    await deps.queue.finish(deploy.id, { status: outcome.status, error: `${outcome.step}: ${outcome.error}`, imageTag }, {
      sagaId: deploy.id, app: deploy.app, source: 'pipeline', category: 'deploy', action,
      message: `${outcome.step} failed: ${outcome.error}`, metadata: { step: outcome.step, durationMs },
    });
  }
  log.info({ outcome: outcome.status, durationMs }, 'pipeline ended');
  return outcome;
}

type StepRunResult = { status: 'complete' | 'skipped'; outputs: StepOutputs } | { status: 'failed'; error: string };

async function runStep(
  step: Step,
  input: PipelineInput,
  outputs: StepOutputs,
  run: StepRun,
  deps: PipelineDeps,
  log: Logger,
): Promise<StepRunResult> {
  const index = STEP_NAMES.indexOf(step.name) + 1;
  const meta = { step: step.name, index, total: STEP_NAMES.length };
  const timeoutMs = deps.timeoutMs(step.name);
  const stepAbort = new AbortController();
  const onOuterAbort = () => stepAbort.abort(input.signal.reason);
  input.signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => stepAbort.abort(new StepTimeoutError(step.name, timeoutMs)), timeoutMs);
  const started = Date.now();
  await deps.queue.setStep(input.deploy.id, step.name);
  run.record({ category: 'step', action: 'step.start', message: `${step.name} started`, metadata: meta });
  try {
    const aborted = new Promise<never>((_, reject) => {
      if (stepAbort.signal.aborted) reject(stepAbort.signal.reason);
      stepAbort.signal.addEventListener('abort', () => reject(stepAbort.signal.reason), { once: true });
    });
    const result = await Promise.race([
      step.run({
        sagaId: input.deploy.id,
        app: input.deploy.app,
        spec: input.spec,
        specDir: input.specDir,
        ref: input.deploy.ref,
        commitSha: input.deploy.commitSha,
        cloneUrl: input.deploy.cloneUrl,
        signal: stepAbort.signal,
        outputs,
        report: (message, progress) =>
          run.record({
            category: 'step',
            action: progress?.action ?? 'step.progress',
            message,
            metadata: { ...progress?.metadata, step: step.name },
          }),
      }),
      aborted,
    ]);
    const durationMs = Date.now() - started;
    if (result.status === 'skipped') {
      run.record({ category: 'step', action: 'step.skipped', message: `${step.name} skipped: ${result.reason}`, metadata: { ...meta, durationMs, reason: result.reason } });
      return { status: 'skipped', outputs: {} };
    }
    run.record({ category: 'step', action: 'step.complete', message: result.message ?? `${step.name} complete`, metadata: { ...meta, durationMs } });
    return { status: 'complete', outputs: result.outputs };
  } catch (err) {
    const durationMs = Date.now() - started;
    const error = deps.redact ? deps.redact(errorMessage(err)) : errorMessage(err);
    const detail = err instanceof StepFailedError ? err.detail : undefined;
    log.warn({ step: step.name, err: error }, 'step failed');
    run.record({ category: 'step', action: 'step.failed', message: `${step.name} failed: ${error}`, metadata: { ...meta, durationMs, error, ...(detail ? { detail } : {}) } });
    return { status: 'failed', error };
  } finally {
    clearTimeout(timer);
    input.signal.removeEventListener('abort', onOuterAbort);
  }
}
