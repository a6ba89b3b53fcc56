// Scheduled and function processes on either runtime (runs/process-verbs.ts):
//   GET  /api/apps/:app/schedules                      scheduled processes, their cron spec, whether paused
//   GET  /api/apps/:app/processes/:process/runs        history of one scheduled or function process (?limit=)
//   POST /api/apps/:app/processes/:process/run         run a scheduled process now: 202 once started, with its saga
//   POST /api/apps/:app/processes/:process/pause       stop its schedule until resumed (operation saga)
//   POST /api/apps/:app/processes/:process/resume
// Invocations of functions stay at POST …/processes/:process/invoke (run-routes.ts).
import Router from '@koa/router';
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';
import { InvalidInputError } from '../../errors.js';
import type { ProcessVerbs } from '../../runs/process-verbs.js';
import { appFromParam } from './app-param.js';

const PROCESS_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

export function processVerbRoutes(deps: { catalog: Pick<AppCatalog, 'get'>; verbs: ProcessVerbs }): Router {
  const r = new Router({ prefix: '/api/apps/:app' });
  const appOf = (name: string | undefined): LoadedApp => appFromParam(deps.catalog, name);
  const processOf = (name: string | undefined): string => {
    if (!name || !PROCESS_NAME.test(name)) throw new InvalidInputError('process', 'must be a process name from the app\'s spec');
    return name;
  };

  r.get('/schedules', async (ctx) => {
    ctx.body = { schedules: await deps.verbs.schedules(appOf(ctx.params.app)) };
  });

  r.get('/processes/:process/runs', async (ctx) => {
    const app = appOf(ctx.params.app);
    const limit = ctx.query.limit === undefined ? 20 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidInputError('limit', 'must be a whole number from 1 to 100');
    ctx.body = { runs: await deps.verbs.history(app, processOf(ctx.params.process), limit) };
  });

  r.post('/processes/:process/run', async (ctx) => {
    const app = appOf(ctx.params.app);
    ctx.status = 202;
    ctx.body = await deps.verbs.runNow(app, processOf(ctx.params.process));
  });

  r.post('/processes/:process/pause', async (ctx) => {
    ctx.body = await deps.verbs.pause(appOf(ctx.params.app), processOf(ctx.params.process));
  });

  r.post('/processes/:process/resume', async (ctx) => {
    ctx.body = await deps.verbs.resume(appOf(ctx.params.app), processOf(ctx.params.process));
  });
  return r;
}
