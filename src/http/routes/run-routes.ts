// One-off runs of scheduled and function processes: `GET /api/apps/:app/runs?limit=` (recent runs, newest first)
// and `POST /api/apps/:app/processes/:process/invoke {"args": [...], "payload": "<base64>"}`, which runs a function
// process to completion on either runtime (process-verbs.ts) and answers its record (exit code, output tail); a
// non-zero exit is a run that failed, not a failed request.
import Router from '@koa/router';
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';
import { InvalidInputError } from '../../errors.js';
import type { ProcessRuns } from '../../runs/process-runs.js';
import type { ProcessVerbs } from '../../runs/process-verbs.js';
import { readJsonBody } from '../read-body.js';
import { appFromParam } from './app-param.js';

const MAX_ARGS = 64;
const MAX_ARG_LENGTH = 4096;

/** Strict base64 (RFC 4648, padded): anything else is refused rather than decoded leniently. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function runRoutes(deps: { catalog: Pick<AppCatalog, 'get'>; runs: ProcessRuns; verbs: Pick<ProcessVerbs, 'invoke'> }): Router {
  const r = new Router({ prefix: '/api/apps/:app' });
  const appOf = (name: string | undefined): LoadedApp => appFromParam(deps.catalog, name);

  r.get('/runs', async (ctx) => {
    const app = appOf(ctx.params.app);
    const limit = ctx.query.limit === undefined ? 20 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new InvalidInputError('limit', 'must be a whole number from 1 to 500');
    ctx.body = { runs: await deps.runs.recent(app.name, limit) };
  });

  r.post('/processes/:process/invoke', async (ctx) => {
    const app = appOf(ctx.params.app);
    const process = ctx.params.process ?? '';
    const body = await readJsonBody(ctx.req);
    const args = body.args ?? [];
    if (!Array.isArray(args) || args.length > MAX_ARGS || !args.every((a) => typeof a === 'string' && a.length <= MAX_ARG_LENGTH && !a.includes('\0'))) {
      throw new InvalidInputError('args', `must be a list of at most ${MAX_ARGS} strings of at most ${MAX_ARG_LENGTH} characters`);
    }
    const payload = body.payload;
    if (payload !== undefined && (typeof payload !== 'string' || !BASE64.test(payload))) throw new InvalidInputError('payload', 'must be a base64 string (the function reads the decoded bytes from $NORN_PAYLOAD_FILE)');
    ctx.body = await deps.verbs.invoke(app, process, { args: args as string[], ...(payload ? { payload: Buffer.from(payload, 'base64') } : {}) });
  });
  return r;
}
