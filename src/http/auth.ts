// The API token check. Every route needs the token (as a bearer token; `?token=` only on /ws and /metrics, whose
// clients cannot always set headers) except the few that createApp mounts before `requireToken`: health, webhooks (signed) and the
// dashboard's pages. Compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware, ParameterizedContext } from 'koa';

export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The bearer token of `Authorization`: the only way the API takes it (a token in a URL ends up in logs and history). */
export function bearerToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  return typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
}

/** The bearer token, else `?token=`: for /ws and /metrics, whose clients (a browser's WebSocket) cannot set headers. */
export function presentedToken(headers: Record<string, string | string[] | undefined>, query: Record<string, unknown>): string | undefined {
  return bearerToken(headers) ?? (typeof query.token === 'string' ? query.token : undefined);
}

export const TOKEN_REFUSED = 'missing or wrong API token (NORN_API_TOKEN, or the api-token file in the receiver\'s data dir)';

/**
 * Deny by default: whatever reaches this middleware needs the token, whatever its path or spelling. Routes that are
 * public are answered before it and never call next.
 */
export function requireToken(apiToken: string): Middleware {
  return async (ctx, next) => {
    if (hasToken(ctx, apiToken)) await next();
  };
}

/** Whether the request carries the API token as a bearer header; if not, it has been answered 401. */
export function hasToken(ctx: ParameterizedContext, apiToken: string): boolean {
  if (tokenMatches(apiToken, bearerToken(ctx.headers))) return true;
  ctx.status = 401;
  ctx.set('WWW-Authenticate', 'Bearer realm="norn"');
  ctx.body = { error: TOKEN_REFUSED };
  return false;
}

/** Origins a browser may open /ws from: localhost on any port, plus the configured ones. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true; // not a browser (CLI, curl): the token check is what guards it
  try {
    const url = new URL(origin);
    if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return true;
  } catch {
    return false;
  }
  return allowed.includes(origin.replace(/\/+$/, ''));
}
