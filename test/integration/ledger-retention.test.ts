// Ledger retention (issue 14, item 4): deliveries that deployed nothing are deleted once older than
// NORN_LEDGER_RETENTION_DAYS, a small batch at a time; those that queued a deploy, and any a deploy or a
// redelivery points at, are kept. On SQLite and on PostgreSQL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { newDeliveryId } from '../../src/deliveries/delivery-id.js';
import { DeliveryLedger, type NewDelivery, type Verdict } from '../../src/deliveries/delivery-ledger.js';
import { LedgerMaintenance } from '../../src/deliveries/ledger-maintenance.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { memoryLogger } from '../support/memory-logger.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/services.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW - n * 24 * 3600 * 1000).toISOString();

function delivery(name: string, verdict: Verdict, receivedAt: string, extra: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: newDeliveryId(),
    forge: 'github',
    deliveryId: name,
    event: 'push',
    verdict,
    statusCode: verdict === 'rejected' ? 401 : 200,
    reason: name,
    trace: { signature: 'valid', steps: [], apps: [], invalidSpecs: [] },
    response: {},
    repo: null,
    ref: null,
    commitSha: null,
    redeliveryOf: null,
    dedupe: false,
    receivedAt,
    ...extra,
  };
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`ledger retention (${engine})`, function () {
    this.timeout(30_000);
    let store: Store;
    let dir: string | undefined;
    let scratch: ScratchDatabase | undefined;

    beforeEach(async () => {
      if (engine === 'postgres') {
        await requirePostgres();
        scratch = await createScratchDatabase('norn_ledger_retention');
        store = await createStore({ databaseUrl: scratch.url, sqliteFile: ':memory:' });
      } else {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-retention-'));
        store = await createStore({ sqliteFile: path.join(dir, 'norn.sqlite') });
      }
    });
    afterEach(async () => {
      await store.close();
      await scratch?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('deletes old deliveries that deployed nothing, in batches, and keeps the rest', async () => {
      const ledger = new DeliveryLedger({ knex: store.knex });
      const rows = [
        ...Array.from({ length: 7 }, (_, i) => delivery(`old-rejected-${i}`, 'rejected', daysAgo(31 + i))),
        delivery('old-ignored', 'ignored', daysAgo(40)),
        delivery('old-ping', 'ping', daysAgo(40)),
        delivery('old-no-match', 'no-match', daysAgo(40)),
        delivery('old-queued', 'queued', daysAgo(90)),
        delivery('recent-rejected', 'rejected', daysAgo(29)),
      ];
      // An old no-match whose redelivery deployed, and an old ignored one a deploy row names: both stay.
      const redelivered = delivery('old-no-match-redelivered', 'no-match', daysAgo(60));
      const named = delivery('old-ignored-named-by-a-deploy', 'ignored', daysAgo(60));
      rows.push(redelivered, named, delivery('its-redelivery', 'queued', daysAgo(59), { redeliveryOf: redelivered.id }));
      for (const row of rows) await ledger.insertIn(store.knex, row);
      await store.knex('deploys').insert({
        id: '6f1c0fb0-0000-4000-8000-000000000001',
        app: 'shop',
        kind: 'deploy',
        lane: 'shop',
        queued_seq: 1,
        ref: 'refs/heads/main',
        commit_sha: 'a'.repeat(40),
        trigger: 'push',
        delivery_id: named.id,
        clone_url: 'https://git.example/shop.git',
        status: 'succeeded',
        created_at: daysAgo(60),
      });

      const { log } = memoryLogger();
      const maintenance = new LedgerMaintenance({ retentionDays: 30, batchSize: 3, batchPauseMs: 1 }, { ledger, receiver: { recordThrottled: async () => 0 }, log });
      expect(await maintenance.prune(NOW)).to.equal(10);
      const kept = await store.knex('deliveries').orderBy('delivery_id').pluck('delivery_id');
      expect(kept).to.deep.equal(['its-redelivery', 'old-ignored-named-by-a-deploy', 'old-no-match-redelivered', 'old-queued', 'recent-rejected']);
      expect(await maintenance.prune(NOW)).to.equal(0);
    });

    it('keeps everything when the retention is 0', async () => {
      const ledger = new DeliveryLedger({ knex: store.knex });
      await ledger.insertIn(store.knex, delivery('ancient', 'rejected', daysAgo(3650)));
      const maintenance = new LedgerMaintenance({ retentionDays: 0 }, { ledger, receiver: { recordThrottled: async () => 0 }, log: memoryLogger().log });
      expect(await maintenance.prune(NOW)).to.equal(0);
      expect(await ledger.count()).to.equal(1);
    });
  });
}
