// The API token and the webhook secret as an operator meets them.
import { expect } from 'chai';
import WebSocket from 'ws';
import { startTestService, type TestService } from '../support/test-service.js';

describe('API token and webhook secret', () => {
  let svc: TestService;
  afterEach(() => svc.close());

  it('requires the token on the API and /ws but not on webhooks or health', async () => {
    svc = await startTestService({ env: { NORN_API_TOKEN: 'operator-token-123' } });
    expect((await fetch(`${svc.url}/api/apps`)).status).to.equal(401);
    expect((await fetch(`${svc.url}/api/apps`, { headers: { authorization: 'Bearer operator-token-123' } })).status).to.equal(200);
    expect((await fetch(`${svc.url}/api/health`)).status).to.equal(200);
    const hook = await fetch(`${svc.url}/api/webhooks/github`, { method: 'POST', body: '{}', headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd1' } });
    expect(hook.status).to.equal(401); // the signature, not the token, guards webhooks
    const closed = await new Promise<number>((resolve) => new WebSocket(`${svc.url.replace('http', 'ws')}/ws`).on('close', (code) => resolve(code)));
    expect(closed).to.equal(1008);
  });

  it('refuses webhooks with a clear 503 when no secret is configured, and records the attempt', async () => {
    svc = await startTestService({ env: { NORN_WEBHOOK_SECRET: '' } });
    const res = await fetch(`${svc.url}/api/webhooks/github`, { method: 'POST', body: '{}', headers: { 'x-github-event': 'push', 'x-github-delivery': 'd2', 'x-hub-signature-256': 'sha256=00' } });
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { error: string }).error).to.contain('NORN_WEBHOOK_SECRET');
    const list = (await (await fetch(`${svc.url}/api/deliveries`)).json()) as { deliveries: { verdict: string }[] };
    expect(list.deliveries[0]!.verdict).to.equal('rejected');
  });

  it('answers 413 to an oversized body without reading it all', async () => {
    svc = await startTestService({ env: { NORN_MAX_BODY_BYTES: '2048' } });
    const res = await fetch(`${svc.url}/api/webhooks/github`, { method: 'POST', body: 'x'.repeat(10_000), headers: { 'x-github-event': 'push', 'x-github-delivery': 'd3' } });
    expect(res.status).to.equal(413);
  });

  it('answers an unknown provider with 404 and a bad limit with 400 naming the field', async () => {
    svc = await startTestService();
    expect((await fetch(`${svc.url}/api/webhooks/bitbucket`, { method: 'POST', body: '{}' })).status).to.equal(404);
    const res = await fetch(`${svc.url}/api/events?limit=abc`);
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { field: string }).field).to.equal('limit');
  });
});
