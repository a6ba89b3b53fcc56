// GET /metrics in Prometheus text format. It needs the API token (bearer) when one is set, like the API, unless
// the operator made it public (NORN_METRICS_PUBLIC=true) for a scraper that cannot send one.
import type { Middleware } from 'koa';
import type { Registry } from 'prom-client';
import { presentedToken, tokenMatches } from '../http/auth.js';

export interface MetricsRouteConfig {
  readonly registry: Registry;
  readonly apiToken?: string;
  readonly isPublic: boolean;
}

export function metricsRoute(config: MetricsRouteConfig): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (config.apiToken && !config.isPublic && !tokenMatches(config.apiToken, presentedToken(ctx.headers, ctx.query))) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer realm="norn"');
      ctx.body = { error: 'missing or wrong API token (NORN_API_TOKEN); set NORN_METRICS_PUBLIC=true to serve /metrics without it' };
      return;
    }
    ctx.set('content-type', config.registry.contentType);
    ctx.set('cache-control', 'no-store');
    ctx.body = await config.registry.metrics();
  };
}
