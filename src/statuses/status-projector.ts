// Projects saga events into the status outbox, inside the transaction that appends them (SagaLog.addProjector),
// so a status is written exactly when its event is: never lost between the two, never written for a rolled-back
// event. Where a status goes comes from the saga's deploy.queued event (deploy-queued.ts): the event in hand, or
// the one the saga started with. Deploys that did not come from a forge with statuses configured (manual deploys,
// the generic hook, a forge without a token) produce nothing.
import type { Knex } from 'knex';
import { deployQueuedMetadata, type DeployKind } from '../events/deploy-queued.js';
import type { SagaEvent } from '../events/saga-event.js';
import type { SagaLog, SagaProjector } from '../events/saga-log.js';
import { statusContext } from './commit-status.js';
import { groupOf, insertRow, lastInGroup, sameStatus, type NewOutboxRow } from './outbox-rows.js';
import { isStatusAction, statusForEvent } from './status-mapping.js';

export interface ProjectorConfig {
  /** Dashboard base URL; a status links to `<publicUrl>/sagas/<sagaId>`. */
  readonly publicUrl: string;
  /** Forges with a status client (a token); statuses for others are not written. */
  readonly forges: ReadonlySet<string>;
}

export interface ProjectorDeps {
  /** Finds a saga's deploy.queued event within the appending transaction. */
  readonly sagaLog: Pick<SagaLog, 'firstOfSaga'>;
  readonly now?: () => Date;
}

interface Origin {
  readonly kind: DeployKind;
  readonly forge: string;
  readonly repoFullName: string;
  readonly commitSha: string;
}

export function sagaUrl(publicUrl: string, sagaId: string): string {
  return `${publicUrl}/sagas/${encodeURIComponent(sagaId)}`;
}

/**
 * Registers the projector on `sagaLog` for the events it acts on: status actions, when some forge has a status
 * client. Every other event (each progress line of a build) is appended without a transaction around it.
 */
export function projectStatuses(sagaLog: SagaLog, config: ProjectorConfig, deps: Omit<ProjectorDeps, 'sagaLog'> = {}): void {
  sagaLog.addProjector(statusProjector(config, { ...deps, sagaLog }), (e) => config.forges.size > 0 && isStatusAction(e.action));
}

function statusProjector(config: ProjectorConfig, deps: ProjectorDeps): SagaProjector {
  // Handed only status actions, and only while some forge has a client (the filter in projectStatuses).
  return async (trx, events) => {
    for (const e of events) {
      const origin = await originOf(trx, e, config.forges, deps.sagaLog);
      if (!origin) continue;
      const update = statusForEvent(e, origin.kind);
      if (!update) continue;
      const row: NewOutboxRow = {
        saga_id: e.sagaId,
        app: e.app,
        forge: origin.forge,
        repo_full_name: origin.repoFullName,
        commit_sha: origin.commitSha,
        context: statusContext(origin.kind, e.app),
        state: update.state,
        description: update.description,
        target_url: sagaUrl(config.publicUrl, e.sagaId),
        event_seq: e.seq,
      };
      const last = await lastInGroup(trx, groupOf(row));
      if (last && sameStatus(last, row)) continue;
      await insertRow(trx, row, (deps.now?.() ?? new Date()).toISOString());
    }
  };
}

/** Where the deploy of `e`'s saga came from, when that is a forge statuses go to. */
async function originOf(trx: Knex.Transaction, e: SagaEvent, forges: ReadonlySet<string>, sagaLog: ProjectorDeps['sagaLog']): Promise<Origin | undefined> {
  const queuedEvent = e.action === 'deploy.queued' ? e : await sagaLog.firstOfSaga(trx, e.sagaId, 'deploy.queued');
  const queued = queuedEvent && deployQueuedMetadata(queuedEvent);
  if (!queued?.forge || !queued.repoFullName || !forges.has(queued.forge)) return undefined;
  return { kind: queued.kind, forge: queued.forge, repoFullName: queued.repoFullName, commitSha: queued.commitSha };
}
