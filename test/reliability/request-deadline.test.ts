// NORN_REQUEST_TIMEOUT_SECONDS on raw sockets against the running service: a request trickled past it is answered
// 408 and its connection closed, also when the route answered before reading the body (so it holds no connection),
// while a snapshot upload may take longer than the limit as long as it keeps arriving, and one that stalls is
// answered 408 with nothing kept. The snapshots need a real PostgreSQL (pg_dump, pg_restore).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { createScratchDatabase, testDatabaseUrl, type ScratchDatabase } from '../support/services.js';
import { startTestService, type TestService } from '../support/test-service.js';

const LIMIT_S = 1;

interface Trickled {
  readonly status?: number;
  readonly body: string;
  /** Milliseconds from the first byte sent to the connection's close. */
  readonly closedAfterMs: number;
}

/**
 * Sends `head` and then `body` in `pieces` pieces `gapMs` apart, or stops after `stopAfter` pieces; resolves when the
 * receiver closes the connection (or after `giveUpMs`, with no status).
 */
function trickle(url: string, head: string[], body: Buffer, opts: { pieces: number; gapMs: number; stopAfter?: number; giveUpMs?: number }): Promise<Trickled> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    let sent = 0;
    const size = Math.ceil(body.length / opts.pieces);
    const timer = setInterval(() => {
      if (socket.destroyed || sent >= opts.pieces || (opts.stopAfter !== undefined && sent >= opts.stopAfter)) return clearInterval(timer);
      socket.write(body.subarray(sent * size, (sent + 1) * size));
      sent++;
    }, opts.gapMs);
    const giveUp = setTimeout(() => socket.destroy(), opts.giveUpMs ?? 20_000);
    socket.on('error', () => undefined);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve({ status: status ? Number(status) : undefined, body: received.slice(received.indexOf('\r\n\r\n') + 4), closedAfterMs: Date.now() - started });
    });
    socket.write(`${[...head, `Content-Length: ${body.length}`].join('\r\n')}\r\n\r\n`);
  });
}

describe('the request deadline (NORN_REQUEST_TIMEOUT_SECONDS)', function () {
  this.timeout(60_000);
  let db: ScratchDatabase;
  let svc: TestService;
  let dump: Buffer;
  const importHead = () => ['POST /api/apps/shop/snapshots/import HTTP/1.1', 'Host: x', 'Connection: close', `Authorization: Bearer ${svc.token}`, 'Content-Type: application/octet-stream'];
  const imported = async () => ((await (await svc.api('/api/apps/shop/snapshots')).json()) as { snapshots: { kind: string }[] }).snapshots.filter((s) => s.kind === 'import');

  before(async () => {
    db = await createScratchDatabase('norn_deadline');
    const database = new URL(db.url).pathname.slice(1);
    svc = await startTestService({
      specs: { shop: { name: 'shop', image: 'norn-base:latest', processes: { web: { port: 8080 } }, infrastructure: { postgres: { database } } } },
      env: {
        NORN_POSTGRES_URL: testDatabaseUrl(),
        NORN_REQUEST_TIMEOUT_SECONDS: String(LIMIT_S),
        NORN_WEBHOOK_BODY_TIMEOUT_SECONDS: String(LIMIT_S),
        // Room for one webhook body of 2 KB at a time: a second is answered 503 busy and dropped unread.
        NORN_MAX_BODY_BYTES: '2048',
        NORN_WEBHOOK_BUFFER_BYTES: '2048',
      },
    });
    const taken = await svc.api('/api/apps/shop/snapshots/take', { method: 'POST', body: '{}' });
    expect(taken.status, await taken.clone().text()).to.be.oneOf([200, 201]);
    const [snapshot] = ((await (await svc.api('/api/apps/shop/snapshots')).json()) as { snapshots: { path: string }[] }).snapshots;
    dump = fs.readFileSync(snapshot!.path);
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
  });

  it('answers 408 naming the setting to an API body that does not arrive whole in time, and closes the connection', async () => {
    const head = ['POST /api/apps/shop/deploy HTTP/1.1', 'Host: x', `Authorization: Bearer ${svc.token}`, 'Content-Type: application/json'];
    const answer = await trickle(svc.url, head, Buffer.from(JSON.stringify({ ref: 'main', padding: 'x'.repeat(100) })), { pieces: 20, gapMs: 300 });
    expect(answer.status).to.equal(408);
    expect(JSON.parse(answer.body).error).to.contain('NORN_REQUEST_TIMEOUT_SECONDS');
    expect(answer.closedAfterMs).to.be.below(10_000);
  });

  it('closes the connection of a body still trickling to a route that already answered (401 without the token)', async () => {
    const answer = await trickle(svc.url, ['POST /api/apps/shop/deploy HTTP/1.1', 'Host: x', 'Content-Type: application/json'], Buffer.alloc(200, 0x20), { pieces: 100, gapMs: 200 });
    expect(answer.status).to.equal(401);
    // The whole body would take 20 s; the deadline ends it after about a second.
    expect(answer.closedAfterMs).to.be.below(10_000);
  });

  it('closes the connection of a webhook body dropped unread after a 503 busy, which no body limit covers', async () => {
    const hook = (id: string) => ['POST /api/webhooks/github HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'X-GitHub-Event: push', `X-GitHub-Delivery: ${id}`, `X-Hub-Signature-256: sha256=${'0'.repeat(64)}`];
    const holder = trickle(svc.url, hook('holds-the-budget'), Buffer.alloc(2000, 0x20), { pieces: 100, gapMs: 100 });
    await new Promise((r) => setTimeout(r, 200));
    const dropped = await trickle(svc.url, hook('busy'), Buffer.alloc(1000, 0x20), { pieces: 100, gapMs: 100 });
    expect(dropped.status).to.equal(503);
    // Its body would take 10 s to send.
    expect(dropped.closedAfterMs).to.be.below(6_000);
    expect((await holder).status).to.equal(408);
  });

  it('takes a snapshot upload that takes longer than the limit while it keeps arriving', async () => {
    const before = (await imported()).length;
    const answer = await trickle(svc.url, importHead(), dump, { pieces: 8, gapMs: 400 });
    expect(answer.status, answer.body).to.be.oneOf([200, 201]);
    expect(answer.closedAfterMs).to.be.above(LIMIT_S * 1000 * 2);
    expect((await imported()).length).to.equal(before + 1);
  });

  it('answers 408 to a snapshot upload that stalls, and keeps nothing of it', async () => {
    const before = (await imported()).length;
    const answer = await trickle(svc.url, importHead(), dump, { pieces: 8, gapMs: 100, stopAfter: 3 });
    expect(answer.status).to.equal(408);
    expect(JSON.parse(answer.body).error).to.contain('stalled');
    expect((await imported()).length).to.equal(before);
    // The partial file goes once the import sees its body cut off, a moment after the answer.
    const dir = path.join(svc.dataDir, 'snapshots', 'shop');
    const partials = () => fs.readdirSync(dir).filter((f) => f.endsWith('.partial'));
    for (let i = 0; i < 50 && partials().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(partials()).to.deep.equal([]);
  });
});
