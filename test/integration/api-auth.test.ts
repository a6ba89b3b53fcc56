// The API token and the webhook secret as an operator meets them.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import WebSocket from 'ws';
import { ApiClient } from '../../src/cli/api-client.js';
import { appsCommand } from '../../src/cli/app-commands.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

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

  it('takes the token in the URL only on /ws: the API refuses ?token=, which would land in logs and history', async () => {
    svc = await startTestService({ env: { NORN_API_TOKEN: 'operator-token-123' } });
    expect((await fetch(`${svc.url}/api/apps?token=operator-token-123`)).status).to.equal(401);
    const deploy = await fetch(`${svc.url}/api/apps/nope/deploy?token=operator-token-123`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(deploy.status).to.equal(401);
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`${svc.url.replace('http', 'ws')}/ws?token=operator-token-123`);
      ws.on('open', () => {
        ws.close();
        resolve(true);
      });
      ws.on('close', () => resolve(false));
    });
    expect(opened).to.equal(true);
  });

  it('refuses webhooks with a clear 503 when no secret is configured, and records the attempt', async () => {
    svc = await startTestService({ env: { NORN_WEBHOOK_SECRET: '' } });
    const res = await fetch(`${svc.url}/api/webhooks/github`, { method: 'POST', body: '{}', headers: { 'x-github-event': 'push', 'x-github-delivery': 'd2', 'x-hub-signature-256': 'sha256=00' } });
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { error: string }).error).to.contain('NORN_WEBHOOK_SECRET');
    const list = (await (await svc.api('/api/deliveries')).json()) as { deliveries: { verdict: string }[] };
    expect(list.deliveries[0]!.verdict).to.equal('rejected');
  });

  // The sender below never finishes its body: an answer at all proves the receiver did not wait to read it, and the
  // connection closed by the receiver proves it stopped taking more.
  it('answers 413 to a body declared over the limit as soon as the headers arrive, and closes the connection', async () => {
    svc = await startTestService({ env: { NORN_MAX_BODY_BYTES: '2048' } });
    const head = 'POST /api/webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: d3\r\nContent-Length: 10000000\r\n\r\n';
    const answer = await sendUnfinished(svc.url, [head, 'x'.repeat(1024)]);
    expect(answer.statusLine).to.equal('HTTP/1.1 413 Payload Too Large');
    expect(answer.body).to.contain('body of 10000000 bytes exceeds the limit of 2048');
    expect(answer.bytesSent).to.be.below(2048); // answered with a sliver of the declared 10 MB sent
    const list = (await (await svc.api('/api/deliveries')).json()) as { deliveries: { verdict: string; statusCode: number }[] };
    expect(list.deliveries[0]).to.deep.include({ verdict: 'rejected', statusCode: 413 });
  });

  it('answers 413 to an undeclared (chunked) body once it passes the limit, without waiting for its end, and closes the connection', async () => {
    svc = await startTestService({ env: { NORN_MAX_BODY_BYTES: '2048' } });
    const head = 'POST /api/webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: d4\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = `400\r\n${'x'.repeat(0x400)}\r\n`;
    // 4 KiB of a body that never sends its last chunk.
    const answer = await sendUnfinished(svc.url, [head, chunk, chunk, chunk, chunk]);
    expect(answer.statusLine).to.equal('HTTP/1.1 413 Payload Too Large');
    expect(answer.body).to.contain('body exceeds the limit of 2048 bytes');
  });

  it('answers an API call whose body is over its limit 413, and one that is not JSON 400, with the same messages as before', async () => {
    svc = await startTestService();
    const tooBig = await svc.api('/api/apps/nope/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"ref":"${'x'.repeat(70 * 1024)}"}` });
    expect(tooBig.status).to.equal(413);
    expect(await tooBig.json()).to.deep.equal({ error: `body of ${70 * 1024 + 10} bytes exceeds the limit of ${64 * 1024}` });
    const notJson = await svc.api('/api/apps/nope/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ref":' });
    expect(notJson.status).to.equal(400);
    expect(await notJson.json()).to.deep.equal({ error: 'request body is not valid JSON' });
  });

  it('answers an unknown provider with 404 and a bad limit with 400 naming the field', async () => {
    svc = await startTestService();
    expect((await fetch(`${svc.url}/api/webhooks/bitbucket`, { method: 'POST', body: '{}' })).status).to.equal(404);
    const res = await svc.api('/api/events?limit=abc');
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { field: string }).field).to.equal('limit');
  });

  it('without NORN_API_TOKEN generates a token into the data dir (0600), logs where it is but never the token, and keeps it', async () => {
    svc = await startTestService();
    const file = path.join(svc.dataDir, 'api-token');
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(svc.token).to.match(/^[\w-]{43}$/);
    expect((await fetch(`${svc.url}/api/apps`)).status).to.equal(401);
    expect((await svc.api('/api/apps')).status).to.equal(200);
    const logged = svc.logLines.join('\n');
    expect(logged).to.contain(file);
    expect(logged).not.to.contain(svc.token);
    const before = svc.token;
    svc = await svc.restart();
    expect(svc.token).to.equal(before);
    expect((await svc.api('/api/apps')).status).to.equal(200);
  });

  it('lets the CLI on the same machine use the generated token, and never sends it to another host', async () => {
    svc = await startTestService();
    const local = captureIo();
    expect(await appsCommand([], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, local.io), local.err()).to.equal(0);
    // The same receiver under a name that is not loopback: the file's token stays home.
    const seen: (string | null)[] = [];
    const fakeFetch: typeof fetch = async (_url, init) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return new Response(JSON.stringify({ error: 'nope' }), { status: 401 });
    };
    await ApiClient.fromEnv({ NORN_URL: 'http://receiver.example:8800', NORN_DATA_DIR: svc.dataDir }, { fetch: fakeFetch }).get('/api/apps').catch(() => undefined);
    expect(seen).to.deep.equal([null]);
  });
});

/**
 * Writes `parts` to a raw connection and never anything more (so a body stays unfinished), then reads the answer
 * until the receiver closes the connection. Resolves only once the receiver has closed it: a receiver that waited
 * for the rest of the body, or kept the connection open to read it, never lets this resolve and fails the test by
 * its timeout.
 */
function sendUnfinished(url: string, parts: readonly string[]): Promise<{ statusLine: string; body: string; bytesSent: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', reject);
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
    });
    socket.on('end', () => {
      socket.destroy();
      const [head = '', body = ''] = received.split('\r\n\r\n', 2);
      resolve({ statusLine: head.split('\r\n')[0]!, body, bytesSent: socket.bytesWritten });
    });
  });
}
