// Housekeeping of the status outbox that is not a delivery: filling in where a deploy.queued status goes, and
// start-up reconciliation of contexts left pending after their deploy ended.
import type { Knex } from 'knex';
import { ENDED_STATUSES, fromDeployRow, type DeployRow } from '../deploys/deploy-record.js';
import type { StatusClient } from '../integrations/forge-status/status-client.js';
import { groupOf, insertRow, lastInGroup, normalize, sameStatus, type OutboxRow } from './outbox-rows.js';
import { finalStatusOf } from './status-mapping.js';

type Clients = Readonly<Record<string, StatusClient | undefined>>;

/**
 * Rows written for deploy.queued before its deploys row existed carry no forge or repo; by now the transaction
 * has committed, so `deploys` says where they go. Rows of deploys with no forge (or none with a token) are deleted:
 * they were never statuses to report.
 */
export async function resolveOrigins(knex: Knex, clients: Clients): Promise<void> {
  const rows = (await knex<OutboxRow>('status_outbox').whereNull('forge').where({ status: 'queued' }).orderBy('id').limit(500)).map((r) => normalize(r)!);
  for (const row of rows) {
    const deploy = await knex<DeployRow>('deploys').where({ id: row.saga_id }).first('forge', 'repo_full_name');
    if (!deploy?.forge || !deploy.repo_full_name || !clients[deploy.forge]) {
      await knex('status_outbox').where({ id: row.id }).delete();
      continue;
    }
    const resolved = { ...row, forge: deploy.forge, repo_full_name: deploy.repo_full_name };
    const last = await lastInGroup(knex, groupOf(resolved));
    if (last && last.id < row.id && sameStatus(last, row)) {
      await knex('status_outbox').where({ id: row.id }).delete();
      continue;
    }
    await knex('status_outbox').where({ id: row.id }).update({ forge: deploy.forge, repo_full_name: deploy.repo_full_name });
  }
}

/**
 * For each context whose newest status (skipped ones aside) was delivered as pending/running although its deploy
 * has ended, enqueues the deploy's final status: no commit stays pending after a crash between the deploy's end and
 * its status, or after its final status was lost. Looks back `lookBackMs`. Returns how many it enqueued.
 */
export async function reconcileStuckPending(knex: Knex, clients: Clients, lookBackMs: number, now: string): Promise<number> {
  const since = new Date(Date.parse(now) - lookBackMs).toISOString();
  const newest = knex('status_outbox')
    .max('id')
    .whereNot({ status: 'skipped' })
    .whereNotNull('forge')
    .where('created_at', '>=', since)
    .groupBy('forge', 'repo_full_name', 'commit_sha', 'context');
  const stuck = (await knex<OutboxRow>('status_outbox').whereIn('id', newest).where({ status: 'delivered' }).whereIn('state', ['pending', 'running'])).map(
    (r) => normalize(r)!,
  );
  let enqueued = 0;
  for (const row of stuck) {
    if (!clients[row.forge!]) continue;
    const deployRow = await knex<DeployRow>('deploys').where({ id: row.saga_id }).first();
    if (!deployRow) continue;
    const deploy = fromDeployRow(deployRow);
    if (!ENDED_STATUSES.includes(deploy.status)) continue;
    const final = finalStatusOf(deploy);
    if (!final) continue;
    await insertRow(knex, { ...pick(row), state: final.state, description: final.description, event_seq: null }, now);
    enqueued++;
  }
  return enqueued;
}

function pick(row: OutboxRow) {
  const { saga_id, app, forge, repo_full_name, commit_sha, context, target_url } = row;
  return { saga_id, app, forge, repo_full_name, commit_sha, context, target_url };
}
