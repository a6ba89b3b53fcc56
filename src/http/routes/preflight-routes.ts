// `POST /api/apps/:app/preflight {"ref"}`: queue a preflight of a ref (default: the tracked branch) and answer
// 202 `{deploys: [{app, kind: "preflight", sagaId, ref, commitSha}]}`, the shape a webhook's answer has, so the
// CLI follows it like a deploy.
import Router from '@koa/router';
import { isAppName } from '../../apps/infraspec-schema.js';
import type { ManualPreflight } from '../../deploys/manual-preflight.js';
import { InvalidInputError } from '../../errors.js';
import { readJsonBody } from '../read-body.js';

export function preflightRoutes(deps: { manualPreflight: Pick<ManualPreflight, 'preflight'> }): Router {
  const r = new Router({ prefix: '/api/apps/:app' });
  r.post('/preflight', async (ctx) => {
    const app = ctx.params.app;
    if (!app || !isAppName(app)) throw new InvalidInputError('app', 'must be an app name (lower-case letters, digits, dashes)');
    const body = await readJsonBody(ctx.req);
    const result = await deps.manualPreflight.preflight(app, body.ref);
    ctx.status = 202;
    ctx.body = { deploys: [result] };
  });
  return r;
}
