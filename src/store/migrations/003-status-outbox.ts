// The commit-status outbox: statuses to report to forges, written by a saga projector in the transaction that
// appends the saga event they come from, and delivered by the StatusOutbox worker in id order per commit and context.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('status_outbox', (t) => {
    // Insertion order is delivery order within one (forge, repo, commit, context).
    t.increments('id').primary();
    t.string('saga_id', 36).notNullable().index();
    t.string('app', 100).notNullable();
    // Null until resolved from `deploys`: deploy.queued is projected before its deploys row is inserted.
    t.string('forge', 16).nullable();
    t.string('repo_full_name', 300).nullable();
    t.string('commit_sha', 64).notNullable();
    t.string('context', 255).notNullable();
    // 'pending' (queued), 'running' (a step started; sent as pending where the forge has no running state),
    // 'success', 'failure' or 'error'.
    t.string('state', 16).notNullable();
    t.text('description').notNullable();
    t.text('target_url').notNullable();
    // The saga event this status comes from; null when start-up reconciliation wrote it.
    t.bigInteger('event_seq').nullable();
    // 'queued' (to deliver), 'delivered', 'skipped' (stale or identical: never sent) or 'dropped' (refused by the forge).
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    // When the row may be tried next; also the claim of the worker sending it (set ahead while in flight).
    t.string('next_attempt_at', 32).notNullable();
    // Why the last attempt failed or the row was skipped; never holds a token.
    t.text('last_error').nullable();
    t.string('created_at', 32).notNullable();
    t.string('finished_at', 32).nullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['forge', 'repo_full_name', 'commit_sha', 'context', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('status_outbox');
}
