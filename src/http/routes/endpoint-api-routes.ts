// cloudflared ingress as the operator sees it: the current rules, and removing an app's public hostnames.
import Router from '@koa/router';
import { isAppName } from '../../apps/infraspec-schema.js';
import { CommandError, InvalidInputError } from '../../errors.js';
import { teardownEndpoints } from '../../pipeline/ingress/teardown-endpoints.js';
import type { CloudflaredIngress } from '../../pipeline/ingress/cloudflared-ingress.js';
import { CloudflaredConfigError } from '../../integrations/cloudflared/cloudflared-config-error.js';

export function endpointApiRoutes(deps: { ingress: CloudflaredIngress }): Router {
  const r = new Router({ prefix: '/api' });
  r.get('/cloudflared/ingress', async (ctx) => {
    ctx.body = await asApiError(() => deps.ingress.listRules());
  });
  // No catalog check: tearing down after the app's spec was deleted is the main use.
  r.delete('/apps/:app/endpoints', async (ctx) => {
    const app = ctx.params.app ?? '';
    if (!isAppName(app)) throw new InvalidInputError('app', 'must be an app name');
    ctx.body = await asApiError(() => teardownEndpoints(deps.ingress, app));
  });
  return r;
}

/** A config file that is missing, invalid or locked is the operator's to fix: answered 4xx/503 with its problems. */
async function asApiError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // The rules were changed, but cloudflared did not reload: the operator must see why (424, not a hidden 500).
    if (err instanceof CommandError) throw new InvalidInputError('NORN_CLOUDFLARED_RESTART', `the reload command failed: ${err.message}`, 424);
    if (!(err instanceof CloudflaredConfigError)) throw err;
    const status = err.kind === 'missing' ? 404 : err.kind === 'locked' ? 503 : 409;
    // err.message already carries the problems: repeating them printed every hint twice.
    throw new InvalidInputError('NORN_CLOUDFLARED_CONFIG', err.message, status);
  }
}
