// Core tables: the delivery ledger, the deploys (one row per saga) and the append-only saga log.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deliveries', (t) => {
    t.string('id', 36).primary();
    t.string('forge', 16).notNullable();
    t.string('delivery_id', 200).notNullable();
    // forge + delivery id for accepted deliveries; null for rejected attempts, so a forged request carrying a real
    // delivery id cannot block the genuine one.
    t.string('dedupe_key', 240).nullable().unique();
    t.string('event', 64).nullable();
    t.string('verdict', 32).notNullable();
    t.integer('status_code').notNullable();
    t.text('reason').notNullable();
    t.text('trace').notNullable();
    t.text('response').notNullable();
    t.string('repo', 300).nullable();
    t.string('ref', 300).nullable();
    t.string('commit_sha', 64).nullable();
    t.string('redelivery_of', 36).nullable().index();
    t.text('headers').nullable();
    t.text('body').nullable();
    t.string('received_at', 32).notNullable().index();
  });
  await knex.schema.createTable('deploys', (t) => {
    t.string('id', 36).primary();
    t.string('app', 100).notNullable();
    t.string('kind', 16).notNullable();
    // Deploys of one lane run one at a time and the newest queued wins: the app for deploys,
    // app + pull request for preflights.
    t.string('lane', 200).notNullable();
    // Log position of the deploy.queued event: a total order of pushes across processes.
    t.bigInteger('queued_seq').notNullable();
    t.string('ref', 300).notNullable();
    t.string('commit_sha', 64).notNullable();
    t.string('trigger', 16).notNullable();
    t.string('delivery_id', 36).nullable().index();
    t.string('forge', 16).nullable();
    t.string('repo_full_name', 300).nullable();
    t.text('clone_url').notNullable();
    t.integer('pr_number').nullable();
    t.string('status', 16).notNullable();
    t.string('current_step', 16).nullable();
    t.text('error').nullable();
    t.string('image_tag', 300).nullable();
    t.string('lease_owner', 100).nullable();
    t.string('lease_expires_at', 32).nullable();
    t.string('created_at', 32).notNullable();
    t.string('started_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.index(['app', 'status']);
    t.index(['lane', 'status']);
    t.index(['status', 'created_at']);
  });
  await knex.schema.createTable('saga_events', (t) => {
    t.increments('seq').primary();
    t.string('id', 36).notNullable().unique();
    t.string('saga_id', 36).notNullable().index();
    t.string('timestamp', 32).notNullable();
    t.string('source', 32).notNullable();
    t.string('app', 100).notNullable().index();
    t.string('category', 32).notNullable();
    t.string('action', 64).notNullable();
    t.text('message').notNullable();
    t.text('metadata').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('saga_events');
  await knex.schema.dropTable('deploys');
  await knex.schema.dropTable('deliveries');
}
