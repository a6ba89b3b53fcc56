// Loaded into the service with `node --import` by bench/ingest.ts --diagnose, never by the service itself: a
// delivery recorded outside a transaction (every one the bench sends) is answered as if its ledger row had been
// written, and nothing is written. What the service then costs is everything but its storage, which says how much
// of the gap to a peer storage can explain. Writes inside a transaction (deploys queued with --tracked) still run.
import { isMainThread } from 'node:worker_threads';
import type { Knex } from 'knex';

if (isMainThread) {
  const { DeliveryLedger } = await import('../src/deliveries/delivery-ledger.js');
  const insertIn = DeliveryLedger.prototype.insertIn;
  DeliveryLedger.prototype.insertIn = function (this: InstanceType<typeof DeliveryLedger>, db, delivery) {
    // The ledger's own knex is private; if it is ever renamed, say so rather than quietly write every row.
    const own = (this as unknown as { deps?: { knex?: Knex } }).deps?.knex;
    if (!own) throw new Error('without-ledger-write: DeliveryLedger no longer keeps its knex at deps.knex; update this preload');
    return db === own ? Promise.resolve(true) : insertIn.call(this, db, delivery);
  };
}
