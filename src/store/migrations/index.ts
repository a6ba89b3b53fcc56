// The ordered list of schema migrations, run by knex through an in-code migration source (no files to find at
// run time, so the compiled service and the tests see the same list). Append; never edit a shipped migration.
import type { Knex } from 'knex';
import * as core from './001-core.js';
import * as snapshots from './002-snapshots.js';
import * as statusOutbox from './003-status-outbox.js';
import * as schedulePauses from './004-schedule-pauses.js';
import * as scheduleClaims from './005-schedule-claims.js';
import * as partialRedeliveryIndex from './006-partial-redelivery-index.js';
import * as deliveryBodyBytes from './007-delivery-body-bytes.js';

export interface Migration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  { name: '001-core', ...core },
  { name: '002-snapshots', ...snapshots },
  { name: '003-status-outbox', ...statusOutbox },
  { name: '004-schedule-pauses', ...schedulePauses },
  { name: '005-schedule-claims', ...scheduleClaims },
  { name: '006-partial-redelivery-index', ...partialRedeliveryIndex },
  { name: '007-delivery-body-bytes', ...deliveryBodyBytes },
];

export const migrationSource: Knex.MigrationSource<Migration> = {
  async getMigrations() {
    return [...MIGRATIONS];
  },
  getMigrationName(m) {
    return m.name;
  },
  async getMigration(m) {
    return m;
  },
};
