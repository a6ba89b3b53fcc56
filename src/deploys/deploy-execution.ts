// Runs one claimed deploy to its end: the app's current spec, the pipeline of its kind (a push's nine steps, a
// preflight's four, a rollback's go-live steps), reports through the lifecycle, and the lifecycle's final transition. Never throws for
// a deploy that fails: failing is an ending like any other.
import type { Logger } from 'pino';
import type { AppCatalog } from '../apps/app-catalog.js';
import type { DeployPipeline } from '../pipeline/deploy-pipeline.js';
import { runPipeline } from '../pipeline/run-pipeline.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';
import type { DeployKind, DeployRecord } from './deploy-record.js';

export type PipelineOf = DeployPipeline | ((deploy: DeployRecord) => Promise<DeployPipeline | string>);

export interface DeployExecutionDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly lifecycle: Pick<DeployLifecycle, 'start' | 'reporter' | 'finish' | 'failUnstarted'>;
  /** Each kind's pipeline; a rollback's is built per deploy from its recorded order (a string says why it cannot run). */
  readonly pipelines: Readonly<Record<DeployKind, PipelineOf>>;
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
    const chosen = deps.pipelines[deploy.kind];
    const pipeline = typeof chosen === 'function' ? await chosen(deploy) : chosen;
    if (typeof pipeline === 'string') {
      await deps.lifecycle.failUnstarted(deploy, pipeline);
      return;
    }
    await deps.lifecycle.start(deploy, app.warnings);
    const outcome = await runPipeline(
      { run: deploy, spec: app.spec, specDir: app.dir, steps: pipeline.steps, cleanup: pipeline.cleanup, signal },
      { report: deps.lifecycle.reporter(deploy), log: deps.log, timeoutMs: pipeline.timeoutMs, redact: deps.redact },
    );
    await deps.lifecycle.finish(deploy, outcome);
  };
}
