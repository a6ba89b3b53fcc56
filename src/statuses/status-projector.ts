// Projects saga events into the status outbox, inside the transaction that appends them (SagaLog.addProjector),
// so a status is written exactly when its event is: never lost between the two, never written for a rolled-back
// event. Deploys that did not come from a forge with statuses configured (manual deploys, the generic hook, a
// forge without a token) produce nothing.
import type { Knex } from 'knex';
import type { DeployKind, DeployRow } from '../deploys/deploy-record.js';
import type { SagaEvent } from '../events/saga-event.js';
import type { SagaProjector } from '../events/saga-log.js';
import { statusContext } from './commit-status.js';
import { groupOf, insertRow, lastInGroup, sameStatus, type NewOutboxRow } from './outbox-rows.js';
import { isStatusAction, statusForEvent } from './status-mapping.js';

export interface ProjectorConfig {
  /** Dashboard base URL; a status links to `<publicUrl>/sagas/<sagaId>`. */
  readonly publicUrl: string;
  /** Forges with a status client (a token); statuses for others are not written. */
  readonly forges: ReadonlySet<string>;
}

type Origin = Pick<DeployRow, 'kind' | 'forge' | 'repo_full_name' | 'commit_sha'>;

export function sagaUrl(publicUrl: string, sagaId: string): string {
  return `${publicUrl}/sagas/${encodeURIComponent(sagaId)}`;
}

export function statusProjector(config: ProjectorConfig, deps: { now?: () => Date } = {}): SagaProjector {
  return async (trx, events) => {
    if (config.forges.size === 0) return;
    for (const e of events) {
      const origin = await originOf(trx, e, config.forges);
      if (!origin) continue;
      const update = statusForEvent(e, origin.kind as DeployKind);
      if (!update) continue;
      const row: NewOutboxRow = {
        saga_id: e.sagaId,
        app: e.app,
        forge: origin.forge,
        repo_full_name: origin.repo_full_name,
        commit_sha: origin.commit_sha,
        context: statusContext(origin.kind as DeployKind, e.app),
        state: update.state,
        description: update.description,
        target_url: sagaUrl(config.publicUrl, e.sagaId),
        event_seq: e.seq,
      };
      if (row.forge && row.repo_full_name) {
        const last = await lastInGroup(trx, groupOf(row));
        if (last && sameStatus(last, row)) continue;
      }
      await insertRow(trx, row, (deps.now?.() ?? new Date()).toISOString());
    }
  };
}

/**
 * Where the deploy came from. deploy.queued is appended before its deploys row is inserted (the row stores the
 * event's seq), so for it the origin comes from the event: forge and repo when its metadata carries them, else
 * left null for the deliverer to resolve from `deploys` once the transaction has committed.
 */
async function originOf(trx: Knex.Transaction, e: SagaEvent, forges: ReadonlySet<string>): Promise<Origin | undefined> {
  if (!isStatusAction(e.action)) return undefined;
  const row = await trx<DeployRow>('deploys').where({ id: e.sagaId }).first('kind', 'forge', 'repo_full_name', 'commit_sha');
  if (row) return row.forge && row.repo_full_name && forges.has(row.forge) ? row : undefined;
  if (e.action !== 'deploy.queued') return undefined;
  const m = e.metadata;
  if (m.trigger === 'manual' || typeof m.commitSha !== 'string') return undefined;
  const forge = typeof m.forge === 'string' ? m.forge : null;
  if (forge !== null && !forges.has(forge)) return undefined;
  const repo = typeof m.repoFullName === 'string' ? m.repoFullName : null;
  return { kind: m.kind === 'preflight' ? 'preflight' : 'deploy', forge: repo ? forge : null, repo_full_name: forge ? repo : null, commit_sha: m.commitSha };
}
