// `POST /api/apps/:app/rollback {to?, restoreSnapshot?, dryRun?, confirm?}`: redeploy an earlier deploy's image
// without building (see deploys/rollback-plan.ts for which one, and what happens to the database). `dryRun: true`
// answers the plan and queues nothing: what the CLI shows before it asks for confirmation. Otherwise the rollback is
// queued as a deploy of kind `rollback` and answered 202 with its saga id. Restoring a snapshot replaces the
// database's data, so it needs `confirm: true`, like a snapshot restore.
import Router from '@koa/router';
import { isAppName } from '../../apps/infraspec-schema.js';
import type { AppCatalog } from '../../apps/app-catalog.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import type { RollbackPlan, RollbackRequest } from '../../deploys/rollback-plan.js';
import { readJsonBody } from '../read-body.js';

export interface RollbackRouteDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  plan(req: RollbackRequest): Promise<RollbackPlan>;
  /** Queues the planned rollback; resolves with its saga id. */
  queue(plan: RollbackPlan): Promise<string>;
}

export function rollbackRoutes(deps: RollbackRouteDeps): Router {
  const r = new Router({ prefix: '/api/apps/:app' });

  r.post('/rollback', async (ctx) => {
    const name = ctx.params.app ?? '';
    const app = isAppName(name) ? deps.catalog.get(name) : undefined;
    if (!app) throw new NotFoundError('app', name.slice(0, 64));
    const body = await readJsonBody(ctx.req);
    const restoreSnapshot = flag(body, 'restoreSnapshot');
    const dryRun = flag(body, 'dryRun');
    const confirm = flag(body, 'confirm');
    if (restoreSnapshot && !dryRun && !confirm) {
      throw new InvalidInputError('confirm', 'restoring the snapshot replaces the data in the database; repeat with "confirm": true');
    }
    const plan = await deps.plan({ app: app.name, to: body.to, restoreSnapshot });
    if (dryRun) {
      ctx.body = { dryRun: true, plan };
      return;
    }
    const sagaId = await deps.queue(plan);
    ctx.status = 202;
    ctx.body = { dryRun: false, sagaId, plan };
  });
  return r;
}

function flag(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidInputError(field, 'must be true or false');
  return value;
}
