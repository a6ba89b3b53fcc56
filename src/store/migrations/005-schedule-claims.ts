// Scheduled runs claimed by a receiver (`runs/schedule-claims.ts`): one row per process and due minute, so receivers
// sharing the store start each due run once, and a run still going on one of them is not doubled by another.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('schedule_claims', (t) => {
    t.string('app', 100).notNullable();
    t.string('process', 100).notNullable();
    // The minute the cron schedule was due, ISO 8601 in UTC.
    t.string('due_at', 32).notNullable();
    // Which receiver started the run (host and process id), for the operator reading the table.
    t.string('receiver', 200).notNullable();
    // Tells the claimant that the row it reads back is its own insert, not a claim made the same moment elsewhere.
    t.string('claim_id', 36).notNullable();
    t.string('claimed_at', 32).notNullable();
    // Null while the run goes on, or when its receiver died before it ended (the claim then goes stale).
    t.string('ended_at', 32).nullable();
    t.primary(['app', 'process', 'due_at']);
    t.index(['due_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule_claims');
}
