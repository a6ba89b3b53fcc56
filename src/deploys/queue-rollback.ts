// Queues a planned rollback as a deploy of kind `rollback`, in the app's lane like any deploy. Its order (which
// image, which deploy it brings back, which snapshot to restore) is written as the saga's `rollback.planned` event
// in the same transaction as the queued row, so whichever receiver claims it reads exactly what the operator saw.
import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';
import type { DeployHistory } from './deploy-history.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';
import type { DeployRecord } from './deploy-record.js';
import { ROLLBACK_PLANNED, type RollbackOrder } from '../pipeline/rollback-order.js';
import type { RollbackPlan } from './rollback-plan.js';

export function orderOf(plan: RollbackPlan): RollbackOrder {
  const run = plan.database.runs[0];
  const snapshot = plan.database.snapshot;
  return {
    image: plan.target.image,
    targetSagaId: plan.target.sagaId,
    restoresSagaId: plan.restoresSagaId,
    fromImage: plan.current.image,
    fromSagaId: plan.current.sagaId,
    restore: plan.restoreSnapshot && snapshot && run
      ? { ts: snapshot.ts, path: snapshot.path, database: snapshot.database, createdAt: snapshot.createdAt, migratingSagaId: run.sagaId, files: [...run.files] }
      : null,
  };
}

export async function queueRollback(plan: RollbackPlan, deps: { knex: Knex; lifecycle: Pick<DeployLifecycle, 'queueIn'>; history: Pick<DeployHistory, 'get'>; sagaLog: SagaLog; onQueued: () => void }): Promise<DeployRecord> {
  const target = await deps.history.get(plan.target.sagaId);
  if (!target) throw new NotFoundError('saga', plan.target.sagaId);
  const order = orderOf(plan);
  const { deploy, events } = await deps.knex.transaction(async (trx) => {
    const queued = await deps.lifecycle.queueIn(trx, {
      app: plan.app,
      kind: 'rollback',
      ref: target.ref,
      // The commit it brings back: its commit status is reported there (context norn/rollback/<app>).
      commitSha: target.commitSha,
      trigger: 'manual',
      deliveryId: null,
      forge: target.forge,
      repoFullName: target.repoFullName,
      cloneUrl: target.cloneUrl,
      prNumber: null,
    });
    const database = order.restore
      ? `; the database is restored from snapshot ${order.restore.ts} first`
      : plan.database.migrated ? `; the database is left as it is (${plan.database.summary})` : '';
    const planned = await deps.sagaLog.appendIn(trx, [
      {
        sagaId: queued.deploy.id,
        app: plan.app,
        source: 'receiver',
        category: 'deploy',
        action: ROLLBACK_PLANNED,
        message: `rollback of ${plan.app} from ${order.fromImage} to ${order.image} (saga ${order.targetSagaId}, commit ${target.commitSha.slice(0, 12)})${database}`,
        metadata: { ...order, migrated: plan.database.migrated, databaseSummary: plan.database.summary, restoreCommand: plan.database.restoreCommand, imagePresence: plan.image },
      },
    ]);
    return { deploy: queued.deploy, events: [...queued.events, ...planned] };
  });
  deps.sagaLog.announce(events);
  deps.onQueued();
  return deploy;
}
