// Housekeeping of the status outbox that is not a delivery, run when the deliverer starts: rows older receivers
// left without an address, and contexts left pending after their deploy ended. Both go by the saga log alone.
import type { Knex } from 'knex';
import { deployQueuedMetadata } from '../events/deploy-queued.js';
import type { SagaAction } from '../events/saga-actions.js';
import type { SagaLog } from '../events/saga-log.js';
import type { StatusClient } from '../integrations/forge-status/status-client.js';
import { insertRow, normalize, type OutboxRow } from './outbox-rows.js';
import { statusForEvent } from './status-mapping.js';

type Clients = Readonly<Record<string, StatusClient | undefined>>;

/** The last event of every deploy that ended. */
const DEPLOY_ENDS: readonly SagaAction[] = ['deploy.complete', 'deploy.failed', 'deploy.superseded', 'deploy.interrupted'];

/**
 * Receivers before this one wrote deploy.queued statuses with no forge yet, to be filled in from the deploys table
 * later; now a status row is written with its address or not at all. Such rows were deleted whenever the deploy had
 * no forge with a token, and were never sent otherwise, so they are removed. Returns how many.
 */
export async function dropUnaddressed(knex: Knex): Promise<number> {
  return knex('status_outbox').whereNull('forge').where({ status: 'queued' }).delete();
}

/**
 * For each context whose newest status (skipped ones aside) was delivered as pending/running although its deploy
 * has ended, enqueues the status of the deploy's last event: no commit stays pending after a crash between the
 * deploy's end and its status, or after its final status was lost. Looks back `lookBackMs`. Returns how many it
 * enqueued.
 */
export async function reconcileStuckPending(knex: Knex, sagaLog: Pick<SagaLog, 'forSaga'>, clients: Clients, lookBackMs: number, now: string): Promise<number> {
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
    const events = await sagaLog.forSaga(row.saga_id);
    const queued = events.map(deployQueuedMetadata).find((m) => m !== undefined);
    const end = events.findLast((e) => DEPLOY_ENDS.includes(e.action));
    if (!queued || !end) continue;
    const final = statusForEvent(end, queued.kind);
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
