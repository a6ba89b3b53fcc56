// The dashboard's HTTP side: the page at / and /sagas/<id>, its assets with their types, cache validators and the
// CSP, and that the API and the token check are untouched by it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { DASHBOARD_CSP } from '../../src/dashboard/dashboard-routes.js';
import { findStaticDir } from '../../src/dashboard/find-static-dir.js';
import { startTestService, type TestService } from '../support/test-service.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('dashboard serving', function () {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ env: { NORN_API_TOKEN: 'serving-test-token' } });
  });
  after(async () => svc.close());

  it('serves the same page at / and /sagas/<id> with a strict CSP and no inline script', async () => {
    const home = await fetch(`${svc.url}/`);
    const saga = await fetch(`${svc.url}/sagas/6f1c0fb0-0000-4000-8000-000000000000`);
    expect(home.status).to.equal(200);
    expect(home.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(home.headers.get('content-security-policy')).to.equal(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).to.match(/^default-src 'self'; connect-src 'self' ws: wss:/);
    expect(home.headers.get('x-content-type-options')).to.equal('nosniff');
    const html = await home.text();
    expect(await saga.text()).to.equal(html);
    expect(html).to.contain('<script type="module" src="/dashboard/app.js">');
    expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file, so the CSP needs no 'unsafe-inline'
    expect(html).not.to.match(/https?:\/\//); // nothing from a CDN
  });

  it('serves assets with their content types and answers 304 to a matching ETag', async () => {
    const types: Record<string, string> = {
      'app.js': 'text/javascript; charset=utf-8',
      'dashboard.css': 'text/css; charset=utf-8',
      'favicon.svg': 'image/svg+xml',
    };
    for (const [file, type] of Object.entries(types)) {
      const res = await fetch(`${svc.url}/dashboard/${file}`);
      expect(res.status, file).to.equal(200);
      expect(res.headers.get('content-type'), file).to.equal(type);
      expect(res.headers.get('cache-control'), file).to.equal('no-cache');
      const etag = res.headers.get('etag');
      expect(etag, file).to.match(/^"[\w-]+"$/);
      const again = await fetch(`${svc.url}/dashboard/${file}`, { headers: { 'If-None-Match': etag! } });
      expect(again.status, file).to.equal(304);
    }
  });

  it('leaves unknown files, other methods, the API and its token check alone', async () => {
    expect((await fetch(`${svc.url}/dashboard/missing.js`)).status).to.equal(404);
    expect((await fetch(`${svc.url}/dashboard/..%2Fdashboard-routes.ts`)).status).to.equal(404);
    expect((await fetch(`${svc.url}/`, { method: 'POST' })).headers.get('content-type') ?? '').not.to.contain('text/html');
    const api = await fetch(`${svc.url}/api/apps`);
    expect(api.status).to.equal(401); // the page loads without the token (it asks for it); the data does not
    const authed = await fetch(`${svc.url}/api/apps`, { headers: { Authorization: 'Bearer serving-test-token' } });
    expect(authed.headers.get('content-type')).to.contain('application/json');
    expect(authed.headers.get('content-security-policy')).to.equal(null);
  });

  it('finds its static files from the source tree and from the build output', () => {
    const expected = path.join(REPO_ROOT, 'src/dashboard/static');
    expect(findStaticDir(path.join(REPO_ROOT, 'src/dashboard'))).to.equal(expected);
    expect(findStaticDir(path.join(REPO_ROOT, 'dist/src/dashboard'))).to.equal(expected);
    expect(() => findStaticDir('/')).to.throw(/index\.html not found/);
  });
});
