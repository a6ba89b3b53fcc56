// The ingest bench's ceilings for Node on this machine. Plain: node:http that reads the body, checks
// X-Hub-Signature-256 in constant time and answers 202 — no parsing, no storage. With BENCH_SQLITE_FILE set it
// also records each verified delivery (id, headers, body) with one prepared, autocommitted SQLite insert before
// answering (WAL, synchronous=NORMAL, as the service): the least that "recorded durably before the answer" costs.
// With BENCH_PG_URL set it records each verified delivery in PostgreSQL instead, batched as the service does: the
// deliveries that arrive in one turn of the event loop go in one multi-row insert, each answered after its commit.
// Started by bench/ingest.ts as a child process; reports its port over IPC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import pg from 'pg';

const secret = process.env.BENCH_WEBHOOK_SECRET ?? '';
const record = openLedger(process.env.BENCH_SQLITE_FILE);
const recordPg = process.env.BENCH_PG_URL ? await openPgLedger(process.env.BENCH_PG_URL) : undefined;

type PgRow = [deliveryId: string, headers: string, body: Buffer, receivedAt: string];

async function openPgLedger(url: string): Promise<(row: PgRow) => Promise<void>> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await pool.query('create table if not exists deliveries (id bigserial primary key, delivery_id text not null unique, headers text not null, body bytea not null, received_at text not null)');
  let pending: { row: PgRow; done: (err?: unknown) => void }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    const values = batch.map((_, i) => `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`).join(', ');
    pool.query(`insert into deliveries (delivery_id, headers, body, received_at) values ${values} on conflict (delivery_id) do nothing`, batch.flatMap((b) => b.row)).then(
      () => batch.forEach((b) => b.done()),
      (err: unknown) => batch.forEach((b) => b.done(err)),
    );
  };
  return (row) =>
    new Promise<void>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ row, done: (err) => (err ? reject(err) : resolve()) });
    });
}

function openLedger(file: string | undefined): ((deliveryId: string, headers: string, body: Buffer) => void) | undefined {
  if (!file) return undefined;
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table if not exists deliveries (id integer primary key, delivery_id text not null unique, headers text not null, body blob not null, received_at text not null)');
  const insert = db.prepare('insert into deliveries (delivery_id, headers, body, received_at) values (?, ?, ?, ?) on conflict (delivery_id) do nothing');
  return (deliveryId, headers, body) => void insert.run(deliveryId, headers, body, new Date().toISOString());
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    const headers = { 'x-github-event': req.headers['x-github-event'], 'content-type': req.headers['content-type'] };
    if (ok && record) record(String(req.headers['x-github-delivery'] ?? ''), JSON.stringify(headers), body);
    const answer = () => {
      res.writeHead(ok ? 202 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{"accepted":true}' : '{"error":"bad signature"}');
    };
    if (ok && recordPg) {
      recordPg([String(req.headers['x-github-delivery'] ?? ''), JSON.stringify(headers), body, new Date().toISOString()]).then(answer, () => {
        res.writeHead(500).end();
      });
    } else answer();
  });
});

server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => server.close(() => process.exit(0)));
