// Routing around the API token (issue 14, item 1): every route the service registered, read from its routers so a
// new route is covered the day it is added, is called without a token (and with a wrong one) in the spellings a
// case-insensitive, slash-tolerant router may accept: /API/…, /Api/…, a trailing slash, doubled slashes,
// percent-encoded letters. Each must be refused with 401 before any handler runs; only the short public list
// (health, webhooks, the dashboard's pages) answers without the token.
import http from 'node:http';
import { expect } from 'chai';
import WebSocket from 'ws';
import type { RouteEntry } from '../../src/http/create-app.js';
import { specFor, startTestService, type TestService } from '../support/test-service.js';

const SAMPLE_PARAMS: Record<string, string> = {
  app: 'shop',
  id: '6f1c0fb0-0000-4000-8000-000000000000',
  ts: '20260101T000000Z',
  provider: 'github',
  rest: 'x',
  process: 'web',
  key: 'API_KEY',
};

/** The route's path with its parameters filled in, e.g. /api/apps/shop/deploy. */
function concrete(route: RouteEntry): string {
  return route.path.replace(/[:*](\w+)/g, (_, name: string) => {
    const value = SAMPLE_PARAMS[name];
    if (value === undefined) throw new Error(`no sample value for :${name} in ${route.path}: add one to SAMPLE_PARAMS`);
    return value;
  });
}

/** The spellings of `path` a lenient router might route to the same handler. */
export function spellings(path: string): string[] {
  const [, first = '', rest = ''] = /^\/([^/]*)(.*)$/.exec(path) ?? [];
  const encodeFirstLetter = (segment: string, upper: boolean) => `%${segment.charCodeAt(0).toString(16)[upper ? 'toUpperCase' : 'toLowerCase']()}${segment.slice(1)}`;
  const segments = path.split('/');
  const lastIndex = segments.length - 1;
  return [
    path,
    path.toUpperCase(),
    `/${first.toUpperCase()}${rest}`,
    `/${first.charAt(0).toUpperCase()}${first.slice(1)}${rest}`,
    `${path}/`,
    `/${path}`,
    path.replace(/\//g, '//'),
    `/${encodeFirstLetter(first, false)}${rest}`,
    `/${encodeFirstLetter(first, true)}${rest}`,
    [...segments.slice(0, lastIndex), encodeFirstLetter(segments[lastIndex]!, false)].join('/'),
    `${path}?token=`,
    `${path.replace(/^\/api\b/i, '/api/.')}`,
  ];
}

function request(url: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(method === 'GET' || method === 'HEAD' || method === 'DELETE' ? undefined : '{"ref":"main"}');
  });
}

describe('the API token cannot be routed around', function () {
  this.timeout(120_000);
  let svc: TestService;
  let routes: readonly RouteEntry[];

  before(async () => {
    svc = await startTestService({ specs: { shop: specFor('shop', 'https://git.example/team/shop.git') } });
    routes = svc.service.routeTable;
  });
  after(async () => svc?.close());

  it('knows the routes from the routers, and only health and webhooks among them are public', () => {
    const guarded = routes.filter((r) => !r.isPublic).map((r) => `${r.method} ${r.path}`);
    for (const expected of ['GET /api/deliveries', 'POST /api/apps/:app/deploy', 'POST /api/deliveries/:id/redeliver', 'DELETE /api/apps/:app/endpoints', 'GET /api/cloudflared/ingress', 'GET /api/apps/:app/plan', 'GET /api/apps/:app/secrets', 'PUT /api/apps/:app/secrets/:key', 'DELETE /api/apps/:app/secrets/:key', 'POST /api/apps/:app/snapshots/:ts/restore', 'GET /api/apps/:app',
      // Issue 18's verbs: a router left out of the service's list would be missing here, not silently public.
      'POST /api/apps/:app/rollback', 'POST /api/apps/:app/preflight', 'GET /api/apps/:app/canary', 'POST /api/apps/:app/canary/promote', 'POST /api/apps/:app/canary/fail',
      'GET /api/apps/:app/logs', 'POST /api/apps/:app/scale', 'POST /api/apps/:app/restart', 'GET /api/apps/:app/instances/:id/logs',
      'POST /api/apps/:app/snapshots/take', 'GET /api/apps/:app/snapshots/:ts/file', 'POST /api/apps/:app/snapshots/import',
      'GET /api/apps/:app/schedules', 'GET /api/apps/:app/processes/:process/runs', 'POST /api/apps/:app/processes/:process/run', 'POST /api/apps/:app/processes/:process/pause', 'POST /api/apps/:app/processes/:process/resume', 'POST /api/apps/:app/processes/:process/invoke']) {
      expect(guarded, expected).to.include(expected);
    }
    const publicPaths = new Set(routes.filter((r) => r.isPublic).map((r) => r.path));
    expect([...publicPaths].sort()).to.deep.equal(['/api/health', '/api/webhooks', '/api/webhooks/*rest', '/api/webhooks/:provider']);
  });

  it('refuses every guarded route in every spelling without a token, or with a wrong one, before its handler', async () => {
    const reached: string[] = [];
    let calls = 0;
    for (const route of routes.filter((r) => !r.isPublic)) {
      const methods = route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
      for (const method of methods) {
        for (const path of [...spellings(concrete(route)), '/metrics', '/METRICS', '/api/nope', '/API/']) {
          const variants: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-123' }, { authorization: `Basic ${svc.token}` }];
          for (const headers of variants) {
            const res = await request(svc.url, method, path, headers);
            calls++;
            if (res.status !== 401) reached.push(`${method} ${path} ${JSON.stringify(headers)} -> ${res.status} ${res.body.slice(0, 120)}`);
          }
        }
      }
    }
    expect(reached, `${reached.length} of ${calls} calls were not refused`).to.deep.equal([]);
    expect(calls).to.be.above(500);
    // Nothing the refused calls asked for happened.
    const deploys = (await (await svc.api('/api/deploys')).json()) as { deploys: unknown[] };
    expect(deploys.deploys).to.deep.equal([]);
  });

  it('reaches each guarded route with the token (so the list above is real)', async () => {
    for (const route of routes.filter((r) => !r.isPublic && r.method === 'GET')) {
      const res = await request(svc.url, 'GET', concrete(route), svc.authHeaders);
      expect(res.status, `${route.method} ${route.path}: ${res.body.slice(0, 200)}`).not.to.equal(401);
    }
  });

  it('answers the public routes without a token, in any spelling, with what they are', async () => {
    expect((await request(svc.url, 'GET', '/API/HEALTH')).status).to.equal(200);
    expect((await request(svc.url, 'POST', '/API/health')).status).to.equal(405);
    const hook = await request(svc.url, 'POST', '/Api/Webhooks/github', { 'x-github-event': 'push', 'x-github-delivery': 'spell-1' });
    expect(hook.status).to.equal(401); // the signature, not the token, guards webhooks
    expect(hook.body).to.contain('"verdict":"rejected"');
    expect((await request(svc.url, 'GET', '/api/webhooks/github')).status).to.equal(405);
    expect((await request(svc.url, 'POST', '/api/webhooks/github/extra')).status).to.equal(404);
    expect((await request(svc.url, 'GET', '/')).status).to.equal(200);
    expect((await request(svc.url, 'GET', '/dashboard/app.js')).status).to.equal(200);
  });

  it('does not give an unauthorized caller the spec, its env values included', async () => {
    svc.writeSpec('envy', specFor('envy', 'https://git.example/team/envy.git', { env: { SECRET_LOOKING: 'value-that-must-not-leak' } }));
    const authorized = await svc.api('/api/apps/envy').then((r) => r.text());
    // The catalog picks the new spec up on its own; wait until the authorized caller sees it.
    for (let i = 0; i < 100 && !authorized.includes('envy'); i++) await new Promise((r) => setTimeout(r, 50));
    for (const path of spellings('/api/apps/envy')) {
      const res = await request(svc.url, 'GET', path);
      expect(res.status, path).to.equal(401);
      expect(res.body, path).not.to.contain('value-that-must-not-leak');
    }
  });

  it('closes /ws in every spelling without the token', async () => {
    const wsUrl = svc.url.replace('http', 'ws');
    for (const path of ['/ws', '/WS', '/Ws', '/ws/', '//ws', '/%77s', '/ws?token=wrong-token-123', '/api/ws']) {
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(`${wsUrl}${path}`);
        ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
        ws.on('error', () => undefined);
        ws.on('message', () => resolve({ code: -1, reason: 'got a message' }));
      });
      expect(closed, path).to.deep.equal({ code: 1008, reason: 'missing or wrong API token' });
    }
  });
});
