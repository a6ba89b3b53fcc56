// Runs one claimed deploy to its end: the app's current spec, the pipeline of its kind (a push's nine steps, a
// preflight's four, a rollback's go-live steps), reports through the lifecycle, and the lifecycle's final transition. Never throws for
// a deploy that fails: failing is an ending like any other.
import type { Logger } from 'pino';
import type { AppCatalog } from '../apps/app-catalog.js';
import { stepNamesOf, type DeployPipeline } from '../pipeline/deploy-pipeline.js';
import { runPipeline } from '../pipeline/run-pipeline.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';
import type { StepName } from '../pipeline/step.js';
import type { DeployKind, DeployRecord } from './deploy-record.js';

export type PipelineOf = DeployPipeline | ((deploy: DeployRecord) => Promise<DeployPipeline | string>);

/** Each kind's pipeline; a rollback's is built per deploy from its recorded order (a string says why it cannot run). */
export type Pipelines = Readonly<Record<DeployKind, PipelineOf>>;

/** The pipeline a run executes, or why it cannot run. */
export async function pipelineFor(pipelines: Pipelines, deploy: DeployRecord): Promise<DeployPipeline | string> {
  const chosen = pipelines[deploy.kind];
  return typeof chosen === 'function' ? chosen(deploy) : chosen;
}

/**
 * The steps a run has, in order, from the pipeline its execution runs (a rollback's from its recorded order): what
 * the API answers as a run's `steps`. None for a run that cannot run (it ends failed before any step).
 */
export function runStepsOf(pipelines: Pipelines): (deploy: DeployRecord) => Promise<readonly StepName[]> {
  return async (deploy) => {
    const pipeline = await pipelineFor(pipelines, deploy);
    return typeof pipeline === 'string' ? [] : stepNamesOf(pipeline);
  };
}

export interface DeployExecutionDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly lifecycle: Pick<DeployLifecycle, 'start' | 'reporter' | 'finish' | 'failUnstarted'>;
  readonly pipelines: Pipelines;
  readonly log: Logger;
  /** Masks configured secrets in a step's error before it is kept on the deploy record and logged. */
  readonly redact?: (text: string) => string;
}

export function deployExecution(deps: DeployExecutionDeps): (deploy: DeployRecord, signal: AbortSignal) => Promise<void> {
  return async (deploy, signal) => {
    const app = deps.catalog.get(deploy.app);
    if (!app) {
      await deps.lifecycle.failUnstarted(deploy, `app ${deploy.app} is no longer in the apps dir (or its spec is invalid)`);
      return;
    }
    const pipeline = await pipelineFor(deps.pipelines, deploy);
    if (typeof pipeline === 'string') {
      await deps.lifecycle.failUnstarted(deploy, pipeline);
      return;
    }
    await deps.lifecycle.start(deploy, app.warnings);
    const outcome = await runPipeline(
      { run: deploy, spec: app.spec, specDir: app.dir, steps: pipeline.steps, cleanup: pipeline.cleanup, signal },
      { report: deps.lifecycle.reporter(deploy, stepNamesOf(pipeline)), log: deps.log, timeoutMs: pipeline.timeoutMs, redact: deps.redact },
    );
    await deps.lifecycle.finish(deploy, outcome);
  };
}
