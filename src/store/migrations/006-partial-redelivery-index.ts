// The index that finds a delivery's redeliveries holds only the rows that are redeliveries. Nearly every row has no
// redelivery_of, and each of those cost the index an entry on every insert, on the path every webhook takes; the one
// query over it (`r.redelivery_of = d.id`) can only match a row that has one, so SQLite and PostgreSQL both use the
// partial index for it.
import type { Knex } from 'knex';

const FULL = 'deliveries_redelivery_of_index';
const PARTIAL = 'deliveries_redelivery_of_partial';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index ${PARTIAL} on deliveries (redelivery_of) where redelivery_of is not null`);
  await knex.raw(`drop index ${FULL}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`create index ${FULL} on deliveries (redelivery_of)`);
  await knex.raw(`drop index ${PARTIAL}`);
}
