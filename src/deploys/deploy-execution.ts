// Runs one claimed deploy to its end: the app's current spec, the pipeline of its kind (a push's nine steps or a
// pull request's preflight), reports through the lifecycle, and the lifecycle's final transition. Never throws for
// a deploy that fails: failing is an ending like any other.
import type { Logger } from 'pino';
import type { AppCatalog } from '../apps/app-catalog.js';
import type { DeployPipeline } from '../pipeline/deploy-pipeline.js';
import { runPipeline } from '../pipeline/run-pipeline.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';
import type { DeployKind, DeployRecord } from './deploy-record.js';

export interface DeployExecutionDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly lifecycle: Pick<DeployLifecycle, 'start' | 'reporter' | 'finish' | 'failUnstarted'>;
  readonly pipelines: Readonly<Record<DeployKind, DeployPipeline>>;
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
    const pipeline = deps.pipelines[deploy.kind];
    await deps.lifecycle.start(deploy, app.warnings);
    const outcome = await runPipeline(
      { run: deploy, spec: app.spec, specDir: app.dir, steps: pipeline.steps, cleanup: pipeline.cleanup, signal },
      { report: deps.lifecycle.reporter(deploy), log: deps.log, timeoutMs: pipeline.timeoutMs, redact: deps.redact },
    );
    await deps.lifecycle.finish(deploy, outcome);
  };
}
