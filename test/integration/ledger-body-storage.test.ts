// The bytes a delivery arrived with come back exactly for a redelivery, whichever way the row stores them: raw in
// `body_bytes` (every row since migration 007), or as rows written before it did: base64 text (PostgreSQL's, and
// SQLite's oldest) or raw bytes in `body` (SQLite's BLOBs).
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DeliveryLedger, type NewDelivery } from '../../src/deliveries/delivery-ledger.js';
import type { Store } from '../../src/store/create-store.js';
import { withPostgresStore, withSqliteStore } from '../support/scratch-store.js';
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
    // Kept as the bytes themselves, not a third larger as base64 text.
    const row = await store.knex('deliveries').where({ id: d.id }).first('body', 'body_bytes');
    expect(row.body, `batched: ${batched}`).to.equal(null);
    expect(Buffer.from(row.body_bytes).length, `batched: ${batched}`).to.equal(body.length);
  }
}

/** A row as written before migration 007, its body in the `body` column as `stored`. */
async function legacyRow(store: Store, stored: Buffer | string): Promise<string> {
  // Written without a body, which the update below puts where the old code put it.
  const old = noMatchDelivery({}, { payload: undefined });
  await new DeliveryLedger({ knex: store.knex }).insertIn(store.knex, old);
  await store.knex('deliveries').where({ id: old.id }).update({ headers: '{}', body: stored });
  return old.id;
}

describe('delivery bodies in the ledger', function () {
  this.timeout(30_000);

  it('come back byte for byte on SQLite, including rows stored as base64 or in the old column before', () =>
    withSqliteStore(async (store) => {
      await roundTrip(store);
      const ledger = new DeliveryLedger({ knex: store.knex });
      const asBase64 = await legacyRow(store, Buffer.from('{"old":"row"}').toString('base64'));
      expect((await ledger.payload(asBase64))?.body.toString()).to.equal('{"old":"row"}');
      const asBlob = await legacyRow(store, Buffer.from([0xff, 0x00, 0xfe]));
      expect((await ledger.payload(asBlob))?.body).to.deep.equal(Buffer.from([0xff, 0x00, 0xfe]));
    }));

  it('come back byte for byte on PostgreSQL, including rows stored as base64 before', () =>
    withPostgresStore('norn_body', async (store) => {
      await roundTrip(store);
      const asBase64 = await legacyRow(store, Buffer.from('{"old":"row"}').toString('base64'));
      expect((await new DeliveryLedger({ knex: store.knex }).payload(asBase64))?.body.toString()).to.equal('{"old":"row"}');
    }));
});
