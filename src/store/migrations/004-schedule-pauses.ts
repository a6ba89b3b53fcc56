// Scheduled processes an operator paused (`norn cron <app> pause <process>`). A row means paused; resume deletes it.
// Kept in the store, not in memory, so a pause outlives a receiver restart and the next deploy keeps it (on Nomad the
// periodic job is registered disabled).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('schedule_pauses', (t) => {
    t.string('app', 100).notNullable();
    t.string('process', 100).notNullable();
    // The operation saga that paused it.
    t.string('saga_id', 36).notNullable();
    t.string('paused_at', 32).notNullable();
    t.primary(['app', 'process']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule_pauses');
}
