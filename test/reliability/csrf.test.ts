// Cross-site request forgery (issue 14, item 2): a page on another site makes the operator's browser send a
// state-changing request. Even with the token in the URL (as a browser would carry it), the API refuses requests
// whose Origin or Sec-Fetch-Site names another site, and POSTs that are not application/json (what a form or a
// no-preflight fetch can send). The CLI, curl, the service's own page and the configured origins still work,
// and webhooks are unaffected.
import { expect } from 'chai';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush } from '../support/signed-delivery.js';
import { specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const PUBLIC_URL = 'https://norn.example.com';
const EXTRA_ORIGIN = 'https://ops.example.org';

describe('cross-site requests to the API', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'hello' });
    svc = await startTestService({ specs: { shop: specFor('shop', repo.url) }, env: { NORN_PUBLIC_URL: PUBLIC_URL, NORN_ALLOWED_ORIGINS: EXTRA_ORIGIN } });
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  /** A request carrying the right token: the cross-site checks must refuse it all the same. */
  const send = (path: string, init: { method: string; headers?: Record<string, string>; body?: string }) =>
    fetch(`${svc.url}${path}`, { ...init, headers: { ...svc.authHeaders, ...init.headers } }).then(async (r) => ({ status: r.status, error: ((await r.json()) as { error?: string }).error ?? '' }));
  const deploysQueued = async () => ((await (await svc.api('/api/deploys')).json()) as { deploys: unknown[] }).deploys.length;

  it('refuses state-changing requests from another site, whatever the content type, and changes nothing', async () => {
    const before = await deploysQueued();
    const attacks: [string, { method: string; headers?: Record<string, string>; body?: string }][] = [
      ['/api/apps/shop/deploy', { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{"ref":"main"}' }],
      ['/api/apps/shop/deploy', { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"ref":"main"}' }],
      ['/api/apps/shop/deploy', { method: 'POST', headers: { origin: 'null', 'content-type': 'application/json' }, body: '{}' }],
      ['/api/apps/shop/deploy', { method: 'POST', headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' }, body: '{}' }],
      ['/api/apps/shop/deploy', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, body: '{}' }],
      ['/api/apps/shop/deploy', { method: 'POST', headers: { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }, body: '{}' }],
      ['/api/deliveries/6f1c0fb0-0000-4000-8000-000000000000/redeliver', { method: 'POST', headers: { origin: 'https://evil.example' } }],
      ['/api/apps/shop/snapshots/20260101T000000Z/restore?confirm=true', { method: 'POST', headers: { origin: 'https://evil.example' } }],
      ['/api/apps/shop/endpoints', { method: 'DELETE', headers: { origin: 'https://evil.example' } }],
    ];
    for (const [path, init] of attacks) {
      const res = await send(path, init);
      expect(res.status, `${init.method} ${path} ${JSON.stringify(init.headers)}`).to.equal(403);
      expect(res.error).to.contain('cross-site');
    }
    expect(await deploysQueued()).to.equal(before);
  });

  it('refuses POSTs that are not declared JSON, bodiless ones included: what a plain HTML form sends', async () => {
    const before = await deploysQueued();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      const res = await send('/api/apps/shop/deploy', { method: 'POST', headers, body: type ? '{"ref":"main"}' : undefined });
      expect(res.status, type || 'no content type').to.equal(415);
      expect(res.error).to.contain('application/json');
    }
    const bodiless = await send('/api/deliveries/6f1c0fb0-0000-4000-8000-000000000000/redeliver', { method: 'POST' });
    expect(bodiless.status).to.equal(415);
    expect(await deploysQueued()).to.equal(before);
  });

  it('accepts the CLI (no Origin), the page itself, the public URL and NORN_ALLOWED_ORIGINS', async () => {
    const json = { 'content-type': 'application/json' };
    const allowed: Record<string, string>[] = [
      json,
      { ...json, origin: svc.url, 'sec-fetch-site': 'same-origin' },
      { ...json, origin: PUBLIC_URL, 'sec-fetch-site': 'cross-site' },
      { ...json, origin: `${EXTRA_ORIGIN}/`, 'sec-fetch-site': 'cross-site' },
      { ...json, 'sec-fetch-site': 'none' },
    ];
    for (const headers of allowed) {
      const res = await send('/api/apps/shop/deploy', { method: 'POST', headers, body: '{"ref":"main"}' });
      expect(res.status, `${JSON.stringify(headers)}: ${res.error}`).to.equal(202);
    }
    // A DELETE carries no body: no content type needed.
    expect((await send('/api/apps/shop/endpoints', { method: 'DELETE' })).status).to.equal(200);
  });

  it('leaves webhooks alone: they are authenticated by their signature, not by where they come from', async () => {
    const push = githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: repo.commit({ 'a.txt': 'x' }) });
    const res = await fetch(`${svc.url}/api/webhooks/github`, { method: 'POST', headers: { ...push.headers, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: push.body });
    expect(res.status).to.equal(202);
  });
});
