// A snapshot download a client stops reading (a stalled `norn snapshots <app> export`) must not hold the
// receiver's shutdown: the server's close waits for every open answer. On shutdown the download is cut, and its
// operation saga ends as failed, saying why and what to do, instead of staying open. An upload still arriving is
// cut the same way, answered 503 with the way out, and leaves no partial file.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import pino from 'pino';
import { expect } from 'chai';
import type { LoadedApp } from '../../src/apps/load-app-specs.js';
import type { NewSagaEvent } from '../../src/events/saga-event.js';
import { errorMiddleware } from '../../src/http/error-middleware.js';
import { snapshotTransferRoutes } from '../../src/http/routes/snapshot-transfer-routes.js';
import { importSnapshot } from '../../src/snapshots/import-snapshot.js';
import type { Snapshot, SnapshotStore } from '../../src/snapshots/snapshot-store.js';
import { eventually } from '../support/test-service.js';

describe('a receiver shutting down while a snapshot is downloaded or uploaded', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-export-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('cuts the stalled download, ends its saga as failed with the way out, and lets the server close', async () => {
    const file = path.join(dir, 'shop-shop-manual-20260101T000000Z.dump');
    // Far more than the socket buffers hold, so a client that stops reading leaves the answer open.
    fs.writeFileSync(file, Buffer.alloc(64 * 1024 * 1024, 7));
    const events: NewSagaEvent[] = [];
    const shutdown = new AbortController();
    const snapshot = { app: 'shop', ts: '20260101T000000Z', path: file } as Snapshot;
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(pino({ level: 'silent' })));
    const router = snapshotTransferRoutes({
      catalog: { get: (name: string) => (name === 'shop' ? ({ name: 'shop', dir, spec: { infrastructure: { postgres: { database: 'shop' } } } } as unknown as LoadedApp) : undefined) },
      snapshots: { findByTimestamp: async (_app: string, ts: string) => (ts === snapshot.ts ? snapshot : undefined) },
      sagaLog: { append: async (e: NewSagaEvent) => { events.push(e); return e as never; } },
      importMaxBytes: 1024,
      currentCommit: async () => undefined,
      shutdown: shutdown.signal,
    });
    app.use(router.routes());
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };

    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/api/apps/shop/snapshots/20260101T000000Z/file' }, resolve).on('error', reject));
    expect(res.statusCode).to.equal(200);
    res.pause(); // the client stops reading
    res.on('error', () => undefined);
    await eventually('the export saga to start', async () => (events.some((e) => e.action === 'operation.start') ? true : undefined));

    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    shutdown.abort(new Error('the receiver is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still closing after 20 s'), 20_000)))]);
    clearTimeout(timer);
    res.destroy();
    expect(outcome).to.equal('closed');
    const failed = await eventually('the export saga to end', async () => events.find((e) => e.action === 'operation.failed' || e.action === 'operation.complete'));
    expect(failed.action).to.equal('operation.failed');
    expect(failed.message).to.contain('the receiver shut down').and.to.contain('norn snapshots shop export 20260101T000000Z');
  });

  it('cuts an upload still arriving, answers 503 saying to import again, and keeps no partial file', async () => {
    const snapshotsDir = fs.mkdtempSync(path.join(dir, 'snaps-'));
    const events: NewSagaEvent[] = [];
    const shutdown = new AbortController();
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(pino({ level: 'silent' })));
    const snapshots = { findByTimestamp: async () => undefined, record: async () => Promise.reject(new Error('not reached')) } as unknown as SnapshotStore;
    app.use(snapshotTransferRoutes({
      catalog: { get: (name: string) => (name === 'shop' ? ({ name: 'shop', dir, spec: { infrastructure: { postgres: { database: 'shop' } } } } as unknown as LoadedApp) : undefined) },
      snapshots,
      sagaLog: { append: async (e: NewSagaEvent) => { events.push(e); return e as never; } },
      importMaxBytes: 1024 * 1024,
      currentCommit: async () => undefined,
      import: (input) => importSnapshot(input, { snapshotsDir, snapshots, clock: () => new Date(), readArchive: async () => '' }),
      shutdown: shutdown.signal,
    }).routes());
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };

    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/apps/shop/snapshots/import', headers: { 'content-type': 'application/octet-stream' } });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    req.write(Buffer.from('PGDMP and the first part of the archive'));
    await eventually('the import saga to start', async () => (events.some((e) => e.action === 'operation.start') ? true : undefined));
    shutdown.abort(new Error('the receiver is shutting down'));
    const res = await answer;
    req.destroy();
    expect(res.status).to.equal(503);
    expect(res.body).to.contain('shutting down').and.to.contain('import');
    expect(events.at(-1)?.action).to.equal('operation.failed');
    expect(fs.readdirSync(path.join(snapshotsDir, 'shop'))).to.deep.equal([]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
