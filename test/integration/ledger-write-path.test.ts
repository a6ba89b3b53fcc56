// The write path behind webhook ingest: ledger inserts that arrive together share one commit (SQLite) or one
// statement (PostgreSQL) but keep their own outcome (a duplicate id still loses, a failing write fails alone), and
// on SQLite the WAL is checkpointed by the background worker, not by the service's commits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DeliveryLedger, type NewDelivery } from '../../src/deliveries/delivery-ledger.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { SqliteCheckpointer } from '../../src/store/sqlite-checkpointer.js';
import { SqliteGroupCommit } from '../../src/store/sqlite-group-commit.js';
import { memoryLogger } from '../support/memory-logger.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/services.js';
import { eventually } from '../support/test-service.js';
import { noMatchDelivery } from '../fakes/no-match-delivery.js';

const delivery = (deliveryId: string, extra: Partial<NewDelivery> = {}): NewDelivery => noMatchDelivery({ deliveryId }, extra);

describe('batched ledger inserts on PostgreSQL', function () {
  let scratch: ScratchDatabase;
  let store: Store;

  beforeEach(async () => {
    await requirePostgres();
    scratch = await createScratchDatabase('norn_ledger_batch');
    store = await createStore({ databaseUrl: scratch.url, sqliteFile: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
    await scratch.drop();
  });

  it('records concurrent deliveries in multi-row inserts, each exactly once, and refuses a repeated id within the batch', async () => {
    const ledger = new DeliveryLedger({ knex: store.knex, batched: true });
    await ledger.insertIn(store.knex, delivery('d-0'));
    const ids = Array.from({ length: 300 }, (_, i) => `d-${i}`);
    const results = await Promise.all([...ids, 'd-7', 'd-7'].map((id) => ledger.insertIn(store.knex, delivery(id))));
    expect(results.filter(Boolean)).to.have.length(299);
    expect(results[0]).to.equal(false); // recorded before the batch
    expect(results.slice(300)).to.deep.equal([false, false]);
    expect(await ledger.count()).to.equal(300);
    expect((await ledger.payload((await ledger.findAccepted('github', 'd-299'))!.id))?.body.length).to.equal(8 * 1024);
  });

  it('fails only the row the database refuses; the others in its batch are recorded', async () => {
    const ledger = new DeliveryLedger({ knex: store.knex, batched: true });
    // A verdict longer than its column: PostgreSQL refuses the row (the ledger trims the free-text columns only).
    const bad = delivery('bad', { verdict: 'x'.repeat(100) as NewDelivery['verdict'] });
    const outcomes = await Promise.allSettled([ledger.insertIn(store.knex, delivery('good-1')), ledger.insertIn(store.knex, bad), ledger.insertIn(store.knex, delivery('good-2'))]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.knex('deliveries').orderBy('delivery_id').pluck('delivery_id')).to.deep.equal(['good-1', 'good-2']);
  });
});

describe('SQLite write path', function () {
  let dir: string;
  let store: Store;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-sqlite-write-'));
    store = await createStore({ sqliteFile: path.join(dir, 'norn.sqlite'), backgroundCheckpoints: true }, { log: memoryLogger().log });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records concurrent deliveries in shared commits, each exactly once, and refuses a repeated id within the batch', async () => {
    const ledger = new DeliveryLedger({ knex: store.knex, batched: true });
    const ids = Array.from({ length: 300 }, (_, i) => `d-${i}`);
    const results = await Promise.all([...ids, 'd-7', 'd-7'].map((id) => ledger.insertIn(store.knex, delivery(id))));
    expect(results.slice(0, 300).every(Boolean)).to.equal(true);
    expect(results.slice(300)).to.deep.equal([false, false]);
    expect(await ledger.count()).to.equal(300);
    const found = await ledger.findAccepted('github', 'd-299');
    expect(found?.repo).to.equal('acme/shop');
    expect((await ledger.payload(found!.id))?.body.length).to.equal(8 * 1024);
  });

  it('fails only the write that throws; the others in its batch are committed', async () => {
    const commits = new SqliteGroupCommit({ knex: store.knex });
    await store.knex.schema.createTable('t', (t) => t.integer('n').primary());
    const insert = (n: number) => commits.run((db) => db.prepare('insert into t (n) values (?)').run(n).changes);
    const broken = commits.run((db) => {
      db.prepare('insert into t (n) values (?)').run(1000);
      throw new Error('refused after writing');
    });
    const outcomes = await Promise.allSettled([insert(1), broken, insert(2), insert(1)]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).to.equal('refused after writing');
    expect(await store.knex('t').orderBy('n').pluck('n')).to.deep.equal([1, 2]);
  });

  it('waits for a knex transaction holding the connection instead of writing into it', async () => {
    const ledger = new DeliveryLedger({ knex: store.knex, batched: true });
    let grouped: Promise<boolean> | undefined;
    await store.knex
      .transaction(async (trx) => {
        await ledger.insertIn(trx, delivery('in-trx'));
        grouped = ledger.insertIn(store.knex, delivery('outside'));
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await grouped).to.equal(true);
    expect(await store.knex('deliveries').orderBy('delivery_id').pluck('delivery_id')).to.deep.equal(['outside']);
  });

  it('copies the WAL into the database file in the background while the service never checkpoints itself', async () => {
    const file = path.join(dir, 'norn.sqlite');
    const ledger = new DeliveryLedger({ knex: store.knex, batched: true });
    const before = fs.statSync(file).size;
    await Promise.all(Array.from({ length: 600 }, (_, i) => ledger.insertIn(store.knex, delivery(`w-${i}`))));
    // 600 rows of ~11 KB: the data sits in the WAL until a checkpoint copies it into the main file.
    const grown = () => fs.statSync(file).size - before > 600 * 8 * 1024;
    await eventually('the checkpoint worker to copy the WAL into the database file', async () => grown() || undefined, 5000).catch(() => undefined);
    expect(fs.statSync(file).size - before).to.be.greaterThan(600 * 8 * 1024);
    const [own] = (await store.knex.raw('pragma wal_autocheckpoint')) as Array<{ wal_autocheckpoint: number }>;
    expect(own?.wal_autocheckpoint).to.equal(0);
  });

  it("turns the connection's own checkpoints back on when the checkpoint worker dies", async () => {
    const { log, lines } = memoryLogger();
    let restored!: () => void;
    const restoredOnce = new Promise<void>((r) => (restored = r));
    const checkpointer = SqliteCheckpointer.start(
      { file: path.join(dir, 'norn.sqlite'), intervalMs: 50, driver: path.join(dir, 'no-such-driver.js'), restoreAutoCheckpoint: async () => restored() },
      { log },
    );
    await restoredOnce;
    await checkpointer.stop();
    expect(lines.join('')).to.contain('checkpoints again');
  });
});
