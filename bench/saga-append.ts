// Saga append: events per second through SagaLog.append on SQLite (a file, as the service runs it) and on
// PostgreSQL (a scratch database), with one writer and with 8 concurrent writers. Peer, in the same run and on
// the same table: the same row inserted with the raw driver (better-sqlite3 / pg), one autocommit INSERT each —
// the least work that stores one event durably — as the ratio.
// In one process better-sqlite3 is synchronous, so the raw SQLite "8 writers" cannot overlap; it is shown anyway.
// Run: npx tsx bench/saga-append.ts [--seconds 3] [--no-postgres]
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SagaLog } from '../src/events/saga-log.js';
import type { NewSagaEvent } from '../src/events/saga-event.js';
import { createStore, type Store } from '../src/store/create-store.js';
import { createScratchDatabase } from '../test/support/services.js';
import { table } from './percentiles.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, 'no-postgres': { type: 'boolean', default: false } } });
const seconds = Number(args.seconds);

function event(i: number): NewSagaEvent {
  return {
    sagaId: randomUUID(),
    source: 'bench',
    app: 'bench-app',
    category: 'deploy',
    action: 'step.start',
    message: `step clone started (${i})`,
    metadata: { step: 'clone', index: 1, total: 9 },
  };
}

/** The row SagaLog writes for `e`, as positional values for the raw inserts. */
function rowValues(e: NewSagaEvent): unknown[] {
  return [randomUUID(), e.sagaId, new Date().toISOString(), e.source, e.app, e.category, e.action, e.message, JSON.stringify(e.metadata)];
}
const COLUMNS = 'id, saga_id, timestamp, source, app, category, action, message, metadata';

/** Runs `writers` loops calling `once` until `ms` have passed; resolves with the calls per second. */
async function rate(writers: number, ms: number, once: (i: number) => Promise<unknown> | unknown): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) await once(n++);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

interface Row {
  store: string;
  writers: number;
  saga: number;
  raw: number;
}

async function measureStore(name: string, store: Store, raw: (writers: number, ms: number) => Promise<number>): Promise<Row[]> {
  const sagaLog = new SagaLog({ knex: store.knex });
  const rows: Row[] = [];
  for (const writers of [1, 8]) {
    await rate(writers, 500, (i) => sagaLog.append(event(i))); // warm-up
    await raw(writers, 500);
    const saga = await rate(writers, seconds * 1000, (i) => sagaLog.append(event(i)));
    rows.push({ store: name, writers, saga, raw: await raw(writers, seconds * 1000) });
  }
  return rows;
}

async function sqliteRows(): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-saga-'));
  const file = path.join(dir, 'norn.sqlite');
  const store = await createStore({ sqliteFile: file });
  // The peer gets a connection of its own to the same file, with the pragmas the store uses.
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare(`insert into saga_events (${COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning seq`);
  try {
    // The peer writes only while SagaLog is idle, so the two connections never wait on each other.
    return await measureStore('SQLite file', store, (writers, ms) => rate(writers, ms, (i) => insert.get(...rowValues(event(i)))));
  } finally {
    db.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRows(): Promise<Row[]> {
  const scratch = await createScratchDatabase('norn_bench_saga');
  const store = await createStore({ databaseUrl: scratch.url, sqliteFile: ':memory:' });
  const pool = new pg.Pool({ connectionString: scratch.url, max: 10 }); // as many connections as the store's pool
  const sql = `insert into saga_events (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning seq`;
  try {
    return await measureStore('PostgreSQL', store, (writers, ms) => rate(writers, ms, (i) => pool.query(sql, rowValues(event(i)))));
  } finally {
    await pool.end();
    await store.close();
    await scratch.drop();
  }
}

async function main(): Promise<void> {
  console.log(`saga append: ${seconds} s per measurement after 0.5 s warm-up; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs\n`);
  const rows = [...(await sqliteRows()), ...(args['no-postgres'] ? [] : await postgresRows())];
  console.log(table([
    ['store', 'writers', 'SagaLog.append/s', 'raw insert/s', 'SagaLog / raw'],
    ...rows.map((r) => [r.store, String(r.writers), r.saga.toFixed(0), r.raw.toFixed(0), `${((100 * r.saga) / r.raw).toFixed(0)}%`]),
  ]));
  // The issue sets no target here; this says whether concurrent writers help or hurt each store.
  for (const store of new Set(rows.map((r) => r.store))) {
    const [one, eight] = rows.filter((r) => r.store === store);
    if (one && eight) console.log(`${store}: 8 writers give ${(eight.saga / one.saga).toFixed(2)}x the single-writer rate of SagaLog.append`);
  }
}

await main();
