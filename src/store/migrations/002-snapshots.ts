// Database snapshots taken by the pipeline's snapshot step (and before a restore), and the restores run from them.
// Rows are kept after retention removes a file (deleted_at set), so "what happened to that dump?" has an answer.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('snapshots', (t) => {
    t.string('id', 36).primary();
    t.string('app', 100).notNullable();
    t.string('database', 63).notNullable();
    // null for a pre-restore safety snapshot taken outside a deploy.
    t.string('commit_sha', 64).nullable();
    t.string('saga_id', 36).nullable().index();
    // 'deploy' (pipeline step 4) or 'pre-restore'.
    t.string('kind', 16).notNullable();
    t.bigInteger('size').notNullable();
    t.text('path').notNullable();
    // UTC YYYYMMDDTHHMMSSZ, the name operators use for it (`norn snapshots <app> restore <ts>`).
    t.string('ts', 16).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('deleted_at', 32).nullable();
    t.unique(['app', 'ts']);
    t.index(['app', 'created_at']);
  });
  await knex.schema.createTable('snapshot_restores', (t) => {
    t.string('id', 36).primary();
    t.string('app', 100).notNullable().index();
    t.string('snapshot_id', 36).notNullable().references('id').inTable('snapshots');
    t.string('safety_snapshot_id', 36).nullable().references('id').inTable('snapshots');
    // 'running', 'succeeded' or 'failed'.
    t.string('status', 16).notNullable();
    t.text('error').nullable();
    t.string('started_at', 32).notNullable();
    t.string('finished_at', 32).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('snapshot_restores');
  await knex.schema.dropTable('snapshots');
}
