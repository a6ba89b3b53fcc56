// The bytes a delivery arrived with come back exactly for a redelivery, whichever way the row stores them: raw
// (SQLite keeps them as a BLOB) or base64 text (PostgreSQL's column, and SQLite rows written before the change).
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DeliveryLedger, type NewDelivery } from '../../src/deliveries/delivery-ledger.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { createScratchDatabase, requirePostgres } from '../support/services.js';
import { noMatchDelivery } from '../fakes/no-match-delivery.js';

const delivery = (body: Buffer): NewDelivery => noMatchDelivery({ body });

async function roundTrip(store: Store): Promise<void> {
  for (const batched of [true, false]) {
    const ledger = new DeliveryLedger({ knex: store.knex, batched });
    // Not valid UTF-8: only a byte-exact store gives these back.
    const body = Buffer.concat([randomBytes(4096), Buffer.from([0xff, 0xfe, 0x00])]);
    const d = delivery(body);
    expect(await ledger.insertIn(store.knex, d)).to.equal(true);
    const stored = await ledger.payload(d.id);
    expect(stored?.body.equals(body), `batched: ${batched}`).to.equal(true);
    expect(stored?.headers).to.deep.equal({ 'x-github-event': 'push' });
  }
}

describe('delivery bodies in the ledger', function () {
  this.timeout(30_000);

  it('come back byte for byte on SQLite, including rows stored as base64 before', async () => {
    const store = await createStore({ sqliteFile: ':memory:' });
    try {
      await roundTrip(store);
      const old = delivery(Buffer.from('{"old":"row"}'));
      const ledger = new DeliveryLedger({ knex: store.knex });
      await ledger.insertIn(store.knex, { ...old, payload: undefined });
      await store.knex('deliveries').where({ id: old.id }).update({ headers: '{}', body: Buffer.from('{"old":"row"}').toString('base64') });
      expect((await ledger.payload(old.id))?.body.toString()).to.equal('{"old":"row"}');
    } finally {
      await store.close();
    }
  });

  it('come back byte for byte on PostgreSQL', async () => {
    await requirePostgres();
    const scratch = await createScratchDatabase('norn_body');
    const store = await createStore({ databaseUrl: scratch.url, sqliteFile: ':memory:' });
    try {
      await roundTrip(store);
    } finally {
      await store.close();
      await scratch.drop();
    }
  });
});
