// Serves the operator dashboard: the same HTML page at `/` and `/sagas/<id>` (the page routes itself by
// location.pathname; `/sagas/<id>` is the target_url of commit statuses) and its assets under `/dashboard/`.
// Public: mounted before the API token check. Everything else (the API, /ws, metrics) passes through untouched
// to that check; the page asks the operator for the token and sends it on every API call.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';
import { findStaticDir } from './find-static-dir.js';

export interface DashboardConfig {
  /** Where index.html and the assets are; found next to the source tree when omitted. */
  readonly staticDir?: string;
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// No inline script or style, no third-party origin; the page talks only to this service (fetch and /ws).
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = /^\/(?:sagas\/[A-Za-z0-9-]{1,64}\/?|apps\/[a-z0-9][a-z0-9-]{0,62}\/logs\/?)?$/;
const ASSET = /^\/dashboard\/([a-z0-9][a-z0-9-]*\.(?:js|css|svg))$/;

export function dashboardRoutes(config: DashboardConfig = {}): Middleware {
  // Resolved now so a missing directory stops the service at start, not at the first page view.
  const dir = config.staticDir ?? findStaticDir();
  let assets: Promise<Map<string, Asset>> | undefined;
  const load = () => {
    // Read once; a failed read is retried on the next request rather than cached.
    assets ??= loadAssets(dir).catch((err: unknown) => {
      assets = undefined;
      throw err;
    });
    return assets;
  };

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const name = PAGE.test(ctx.path) ? 'index.html' : ASSET.exec(ctx.path)?.[1];
    const asset = name ? (await load()).get(name) : undefined;
    if (!asset) {
      // /dashboard/ holds only public files: a missing one is not found, not a reason to ask for the API token.
      if (!ctx.path.startsWith('/dashboard/')) return next();
      ctx.status = 404;
      ctx.body = { error: 'no such dashboard file' };
      return;
    }
    ctx.set('Content-Security-Policy', DASHBOARD_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // Asset URLs carry no version, so the browser revalidates each time; an unchanged file costs a 304.
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', asset.etag);
    if (ctx.get('If-None-Match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const file of await fs.readdir(dir)) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const body = await fs.readFile(path.join(dir, file));
    out.set(file, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return out;
}
