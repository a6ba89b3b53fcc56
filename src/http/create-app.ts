// createApp(deps): the Koa application with its routes and the /ws live stream. No clients are built here; the
// composition root (app.ts) passes everything in, so tests can run it in-process.
//
// Deny by default: the public routes (health, webhooks, the dashboard's pages) are mounted first and answer every
// request they match themselves; everything else, whatever its spelling, meets requireToken before any handler.
import type { RequestListener } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import websockify from 'koa-websocket';
import type { Logger } from 'pino';
import type { LiveHub } from '../events/live-hub.js';
import { InvalidInputError } from '../errors.js';
import { originAllowed, presentedToken, requireToken, tokenMatches } from './auth.js';
import { BodyBudget } from './body-budget.js';
import { errorMiddleware } from './error-middleware.js';
import { refuseCrossSite } from './refuse-cross-site.js';
import { apiRoutes, healthRoutes, type ApiDeps } from './routes/api-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { webhookListener } from './webhook-listener.js';
import { armRequestDeadline } from './request-deadline.js';
import { isAppName } from '../apps/infraspec-schema.js';
import type { DeliveryReceiver } from '../deliveries/delivery-receiver.js';

export interface HttpConfig {
  /** Always set: NORN_API_TOKEN, or the token generated into the data dir. */
  readonly apiToken: string;
  readonly allowedOrigins: readonly string[];
  /** NORN_PUBLIC_URL: its origin may send state-changing requests (see refuse-cross-site.ts). */
  readonly publicUrl: string;
  readonly maxBodyBytes: number;
  /** NORN_WEBHOOK_BODY_TIMEOUT_SECONDS, in ms. */
  readonly webhookBodyTimeoutMs: number;
  /** NORN_REQUEST_TIMEOUT_SECONDS, in ms (request-deadline.ts). */
  readonly requestTimeoutMs: number;
  /** NORN_WEBHOOK_BUFFER_BYTES: all webhook bodies being read at once, together. */
  readonly webhookBufferBytes: number;
}

export interface HttpDeps extends ApiDeps {
  readonly receiver: DeliveryReceiver;
  readonly hub: LiveHub;
  readonly log: Logger;
  /** Masks configured secrets in error text from other systems before it is answered or logged. */
  readonly redact?: (text: string) => string;
  /** Extra routers (snapshots, metrics…) mounted after the API; they need the token like it. */
  readonly extraRoutes?: readonly ExtraRoute[];
  /**
   * Routes anyone may call (the dashboard's pages, /metrics when NORN_METRICS_PUBLIC), mounted before the token
   * check. Each must answer what it matches and pass on everything else untouched.
   */
  readonly publicRoutes?: readonly ExtraRoute[];
}

/** A registered route, as the route-coverage tests enumerate them. */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
  readonly isPublic: boolean;
}

export type NornHttpApp = websockify.App & {
  readonly routeTable: readonly RouteEntry[];
  /** What the HTTP server runs for each request: webhook deliveries outside Koa (webhook-listener.ts), the rest in it. */
  readonly requestListener: () => RequestListener;
};

/** A router (mounted with its allowed methods) or a plain middleware. */
export type ExtraRoute = Router | Koa.Middleware;

export function createApp(config: HttpConfig, deps: HttpDeps): NornHttpApp {
  const app = websockify(new Koa({ proxy: false }));
  app.silent = true;
  app.use(errorMiddleware(deps.log, deps.redact));
  // The routers answer 501 to a method they have never heard of (PROPFIND, TRACE): that is the client's error,
  // a 405 where the path exists (they set Allow) and a 404 where it does not.
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 501) ctx.status = ctx.response.get('Allow') ? 405 : 404;
  });
  const mount = (extra: ExtraRoute) => (extra instanceof Router ? app.use(extra.routes()).use(extra.allowedMethods()) : app.use(extra));
  const bodyBudget = new BodyBudget(config.webhookBufferBytes);
  const webhookConfig = { maxBodyBytes: config.maxBodyBytes, bodyTimeoutMs: config.webhookBodyTimeoutMs, bodyBudget };
  const open = [healthRoutes({ ...deps, apiToken: config.apiToken }), webhookRoutes(webhookConfig, deps)];
  // No allowedMethods here: a public route answers a wrong method itself (405), so it never falls through.
  for (const router of open) app.use(router.routes());
  for (const extra of deps.publicRoutes ?? []) mount(extra);
  app.use(requireToken(config.apiToken));
  app.use(refuseCrossSite(config));
  const api = apiRoutes(deps);
  for (const route of [api, ...(deps.extraRoutes ?? [])]) mount(route);
  const guarded = [api, ...(deps.extraRoutes ?? []).filter((r): r is Router => r instanceof Router)];

  app.ws.use(async (ctx) => {
    const socket = ctx.websocket;
    // The token first, so no spelling of the path gets further without it.
    if (!tokenMatches(config.apiToken, presentedToken(ctx.headers, ctx.query))) return socket.close(1008, 'missing or wrong API token');
    if (ctx.path !== '/ws') return socket.close(1008, 'unknown path');
    if (!originAllowed(ctx.headers.origin, config.allowedOrigins)) return socket.close(1008, 'origin not allowed');
    try {
      const opts = liveOptions(ctx.query);
      await deps.hub.add(socket, opts);
    } catch (err) {
      socket.close(1008, err instanceof InvalidInputError ? err.message : 'bad request');
    }
  });
  const routeTable = [...routesOf(open, true), ...routesOf(guarded, false)];
  const requestListener = (): RequestListener => {
    const webhooks = webhookListener(webhookConfig, deps);
    const koa = app.callback();
    return (req, res) => {
      // Webhooks too: their own, shorter limit covers a body being read, not one dropped after a 503 busy.
      armRequestDeadline(req, res, config.requestTimeoutMs);
      if (!webhooks(req, res)) void koa(req, res);
    };
  };
  return Object.assign(app, { routeTable, requestListener });
}

function routesOf(routers: readonly Router[], isPublic: boolean): RouteEntry[] {
  return routers.flatMap((r) => r.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path), isPublic }))));
}

function liveOptions(query: Record<string, unknown>): { app?: string; since?: number } {
  const app = typeof query.app === 'string' && query.app !== '' ? query.app : undefined;
  if (app !== undefined && !isAppName(app)) throw new InvalidInputError('app', 'is not an app name');
  if (query.since === undefined) return { app };
  const since = Number(query.since);
  if (!Number.isSafeInteger(since) || since < 0) throw new InvalidInputError('since', 'must be a non-negative integer');
  return { app, since };
}
