// createApp(deps): the Koa application with its routes and the /ws live stream. No clients are built here; the
// composition root (app.ts) passes everything in, so tests can run it in-process.
import Router from '@koa/router';
import Koa from 'koa';
import websockify from 'koa-websocket';
import type { Logger } from 'pino';
import type { LiveHub } from '../events/live-hub.js';
import { InvalidInputError } from '../errors.js';
import { originAllowed, presentedToken, tokenMatches } from './auth.js';
import { errorMiddleware } from './error-middleware.js';
import { apiRoutes, type ApiDeps } from './routes/api-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { isAppName } from '../apps/infraspec-schema.js';
import type { DeliveryReceiver } from '../deliveries/delivery-receiver.js';

export interface HttpConfig {
  readonly apiToken?: string;
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
}

export interface HttpDeps extends ApiDeps {
  readonly receiver: DeliveryReceiver;
  readonly hub: LiveHub;
  readonly log: Logger;
  /** Masks configured secrets in error text from other systems before it is answered or logged. */
  readonly redact?: (text: string) => string;
  /** Extra routers (dashboard, metrics) mounted after the API. */
  readonly extraRoutes?: readonly ExtraRoute[];
}

/** A router (mounted with its allowed methods) or a plain middleware. */
export type ExtraRoute = Router | Koa.Middleware;

const OPEN_PATHS = [/^\/api\/webhooks(\/|$)/, /^\/api\/health$/];

export function createApp(config: HttpConfig, deps: HttpDeps): websockify.App {
  const app = websockify(new Koa({ proxy: false }));
  app.silent = true;
  app.use(errorMiddleware(deps.log, deps.redact));
  // The routers answer 501 to a method they have never heard of (PROPFIND, TRACE): that is the client's error,
  // a 405 where the path exists (they set Allow) and a 404 where it does not.
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 501) ctx.status = ctx.response.get('Allow') ? 405 : 404;
  });
  app.use(async (ctx, next) => {
    // ?verbose health names the integrations and their addresses: that is for holders of the token only.
    const isOpen = OPEN_PATHS.some((p) => p.test(ctx.path)) && !(ctx.path === '/api/health' && ctx.query.verbose !== undefined);
    if (config.apiToken && ctx.path.startsWith('/api/') && !isOpen) {
      if (!tokenMatches(config.apiToken, presentedToken(ctx.headers, ctx.query))) {
        ctx.status = 401;
        ctx.body = { error: 'missing or wrong API token (NORN_API_TOKEN)' };
        return;
      }
    }
    await next();
  });
  const hooks = webhookRoutes(config, deps);
  const api = apiRoutes(deps);
  app.use(hooks.routes()).use(hooks.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());
  for (const extra of deps.extraRoutes ?? []) {
    if (extra instanceof Router) app.use(extra.routes()).use(extra.allowedMethods());
    else app.use(extra);
  }

  app.ws.use(async (ctx) => {
    const socket = ctx.websocket;
    if (ctx.path !== '/ws') return socket.close(1008, 'unknown path');
    if (!originAllowed(ctx.headers.origin, config.allowedOrigins)) return socket.close(1008, 'origin not allowed');
    if (config.apiToken && !tokenMatches(config.apiToken, presentedToken(ctx.headers, ctx.query))) return socket.close(1008, 'missing or wrong API token');
    try {
      const opts = liveOptions(ctx.query);
      await deps.hub.add(socket, opts);
    } catch (err) {
      socket.close(1008, err instanceof InvalidInputError ? err.message : 'bad request');
    }
  });
  return app;
}

function liveOptions(query: Record<string, unknown>): { app?: string; since?: number } {
  const app = typeof query.app === 'string' && query.app !== '' ? query.app : undefined;
  if (app !== undefined && !isAppName(app)) throw new InvalidInputError('app', 'is not an app name');
  if (query.since === undefined) return { app };
  const since = Number(query.since);
  if (!Number.isSafeInteger(since) || since < 0) throw new InvalidInputError('since', 'must be a non-negative integer');
  return { app, since };
}
