// Canary deployments: `GET /api/apps/:app/canary` (the latest deployment's canaries, and when the running deploy
// promotes them by itself), `POST /api/apps/:app/canary/promote` and `POST /api/apps/:app/canary/fail`. Each
// decision is an operator saga (`promote`, `canary fail`) whose id the answer carries; the deploy waiting in its
// health gate sees the decision and says so in its own saga.
import Router from '@koa/router';
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { DeployHistory } from '../../deploys/deploy-history.js';
import { InvalidInputError, StepFailedError } from '../../errors.js';
import { changesWhatRuns } from '../../events/deploy-queued.js';
import type { SagaLog } from '../../events/saga-log.js';
import { recordOperation } from '../../operations/operation-saga.js';
import type { CanaryControl } from '../../pipeline/canary-control.js';
import type { RuntimeSource } from '../../pipeline/runtime.js';
import { appFromParam } from './app-param.js';

export interface CanaryRouteDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly runtime: RuntimeSource;
  readonly history: Pick<DeployHistory, 'list'>;
  readonly sagaLog: Pick<SagaLog, 'append' | 'forSaga'>;
}

const TIMEOUT_MS = 15_000;

export function canaryRoutes(deps: CanaryRouteDeps): Router {
  const r = new Router({ prefix: '/api/apps/:app/canary' });

  const appOf = (name: string | undefined): string => appFromParam(deps.catalog, name).name;

  const controlOf = async (): Promise<{ runtime: string; canary: CanaryControl }> => {
    let runtime;
    try {
      runtime = await deps.runtime.require('canary');
    } catch (err) {
      if (err instanceof StepFailedError) throw new InvalidInputError('runtime', err.message, 409);
      throw err;
    }
    return { runtime: runtime.name, canary: runtime.canary };
  };

  /**
   * The run of `app` that changes what runs (a deploy or a rollback: both wait in the same health gate), and when
   * that gate promotes the canaries by itself (if it said).
   */
  const runningDeploy = async (app: string) => {
    const [running] = (await deps.history.list({ app, status: 'running', limit: 5 })).filter((d) => changesWhatRuns(d.kind));
    if (!running) return null;
    const waiting = (await deps.sagaLog.forSaga(running.id)).filter((e) => e.action === 'canary.waiting').at(-1);
    const promoteAt = typeof waiting?.metadata.promoteAt === 'string' ? waiting.metadata.promoteAt : null;
    return { sagaId: running.id, commitSha: running.commitSha, promoteAt };
  };

  r.get('/', async (ctx) => {
    const app = appOf(ctx.params.app);
    const { runtime, canary } = await controlOf();
    const [deployment, deploy] = await Promise.all([canary.latest(app, AbortSignal.timeout(TIMEOUT_MS)), runningDeploy(app)]);
    ctx.body = { app, runtime, deployment, deploy };
  });

  for (const [path, verb, decide] of [
    ['/promote', 'promote', (c: CanaryControl, app: string) => c.promote(app, AbortSignal.timeout(TIMEOUT_MS))],
    ['/fail', 'canary fail', (c: CanaryControl, app: string) => c.fail(app, AbortSignal.timeout(TIMEOUT_MS))],
  ] as const) {
    r.post(path, async (ctx) => {
      const app = appOf(ctx.params.app);
      const { canary } = await controlOf();
      const deploy = await runningDeploy(app);
      const summary = verb === 'promote' ? `promote ${app}'s canaries` : `fail ${app}'s canaries`;
      const { sagaId, result } = await recordOperation(deps.sagaLog, { app, verb, summary, metadata: { deploySagaId: deploy?.sagaId ?? null } }, async () => {
        const decision = await decide(canary, app);
        return { message: decision.message, metadata: { deploymentId: decision.deploymentId }, result: decision };
      });
      ctx.body = { app, sagaId, deploymentId: result.deploymentId, message: result.message, deploySagaId: deploy?.sagaId ?? null };
    });
  }
  return r;
}
