// CSRF defence for the API's state-changing requests (POST, PUT, PATCH, DELETE). A browser attaches what a page
// cannot read (a token in a URL, a cookie a proxy adds), so a request another site made it send is refused:
//  - an Origin that is not this service's own host, the public URL's origin or one of NORN_ALLOWED_ORIGINS;
//  - without Origin, Sec-Fetch-Site other than same-origin or none (typed into the address bar);
//  - a body, or any POST/PUT/PATCH, not declared application/json (or application/octet-stream, for uploads such
//    as a snapshot import): a cross-site form can only send text/plain, urlencoded or multipart without a CORS
//    preflight, which this service never answers.
// Requests with neither header (the CLI, curl, the post-receive hook) pass on to the token check's verdict.
// Webhooks are mounted before this and are exempt: forges send their own content types and sign their bodies.
import type { Middleware } from 'koa';

export interface CrossSiteConfig {
  /** NORN_PUBLIC_URL: the dashboard's address as browsers see it. */
  readonly publicUrl: string;
  /** NORN_ALLOWED_ORIGINS. */
  readonly allowedOrigins: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Body types a page on another site cannot send without a CORS preflight. */
const PREFLIGHTED_TYPES = new Set(['application/json', 'application/octet-stream']);

export function refuseCrossSite(config: CrossSiteConfig): Middleware {
  const trusted = new Set([originOf(config.publicUrl), ...config.allowedOrigins.map(originOf)].filter((o): o is string => o !== undefined));
  return async (ctx, next) => {
    if (SAFE_METHODS.has(ctx.method)) return next();
    const origin = ctx.get('Origin');
    const fetchSite = ctx.get('Sec-Fetch-Site').toLowerCase();
    const fromElsewhere = origin ? !(trusted.has(originOf(origin) ?? '') || isSameHost(origin, ctx.host)) : fetchSite !== '' && fetchSite !== 'same-origin' && fetchSite !== 'none';
    if (fromElsewhere) {
      ctx.status = 403;
      ctx.body = { error: `cross-site ${ctx.method} refused (Origin ${origin || 'not sent'}, Sec-Fetch-Site ${fetchSite || 'not sent'}); a page on another site cannot change this service. Add its origin to NORN_ALLOWED_ORIGINS if it should` };
      return;
    }
    const hasBody = Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';
    if ((ctx.method !== 'DELETE' || hasBody) && !PREFLIGHTED_TYPES.has(mediaType(ctx.get('Content-Type')))) {
      ctx.status = 415;
      ctx.body = { error: `${ctx.method} requests to the API must be sent with Content-Type: application/json (a JSON body, {} when there is nothing to say)` };
      return;
    }
    await next();
  };
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? undefined : parsed.origin;
  } catch {
    return undefined;
  }
}

/** The Origin names the host this request was sent to: the page came from this service. */
function isSameHost(origin: string, host: string): boolean {
  try {
    return host !== '' && new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}
