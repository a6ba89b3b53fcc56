// Snapshots of an app's database: list them, and restore one (only with confirm=true, never during a deploy).
import Router from '@koa/router';
import type { AppCatalog } from '../../apps/app-catalog.js';
import { InvalidInputError } from '../../errors.js';
import type { SnapshotStore } from '../../snapshots/snapshot-store.js';
import type { RestoreSnapshotInput, RestoreSnapshotResult } from '../../snapshots/restore-snapshot.js';
import { appFromParam } from './app-param.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';

export interface SnapshotRouteDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly snapshots: SnapshotStore;
  /** Undefined when no PostgreSQL admin URL is configured. */
  readonly restore?: (input: RestoreSnapshotInput) => Promise<RestoreSnapshotResult>;
}

const TS = /^\d{8}T\d{6}Z$/;

export function snapshotRoutes(deps: SnapshotRouteDeps): Router {
  const r = new Router({ prefix: '/api/apps/:app/snapshots' });
  const appOf = (name: string | undefined): LoadedApp => appFromParam(deps.catalog, name);

  r.get('/', async (ctx) => {
    const app = appOf(ctx.params.app);
    ctx.body = { snapshots: await deps.snapshots.listByApp(app.name) };
  });

  r.post('/:ts/restore', async (ctx) => {
    const app = appOf(ctx.params.app);
    const ts = ctx.params.ts ?? '';
    if (!TS.test(ts)) throw new InvalidInputError('ts', 'must be a snapshot timestamp like 20261127T153000Z');
    if (!deps.restore) throw new InvalidInputError('postgres', 'restores need NORN_POSTGRES_URL on the receiver', 409);
    const preRestore = ctx.query.preRestore === undefined ? app.spec.snapshots.preRestore : ctx.query.preRestore === 'true';
    const result = await deps.restore({ app: app.name, ts, confirm: ctx.query.confirm === 'true', preRestore });
    ctx.body = result;
  });
  return r;
}
