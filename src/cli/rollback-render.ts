// How a rollback plan reads in the CLI: what runs now, what comes back, and what happened to the database since,
// shown before the operator confirms.
import type { RollbackPlan } from '../deploys/rollback-plan.js';

export function planLines(plan: RollbackPlan): string[] {
  const { current, target, database } = plan;
  const lines = [
    `rollback of ${plan.app}`,
    `  now:   ${current.image}  (saga ${current.sagaId}, commit ${current.commitSha.slice(0, 12)}${current.kind === 'rollback' ? ', itself a rollback' : ''})`,
    `  back:  ${target.image}  (saga ${target.sagaId}, commit ${target.commitSha.slice(0, 12)}, deployed ${target.deployedAt.slice(0, 19).replace('T', ' ')})`,
    `  image: ${imageLine(plan)}`,
  ];
  if (plan.waitsFor) lines.push(`  ! a ${plan.waitsFor.kind} of ${plan.app} is ${plan.waitsFor.status} (saga ${plan.waitsFor.sagaId}): the rollback waits for it, and a newer push replaces it`);
  if (!database.migrated) {
    lines.push(`  database: ${database.summary}`);
    return lines;
  }
  lines.push(`  ! database: migrations ran since that version: ${database.summary}`);
  if (plan.restoreSnapshot && database.snapshot) {
    lines.push(`  the rollback restores snapshot ${database.snapshot.ts} first (after a safety snapshot of the current data)`);
  } else if (database.restorable && database.snapshot) {
    lines.push(`  the database is left as it is: the old version runs on the migrated schema; add --restore-snapshot to restore ${database.snapshot.ts} first`);
  } else {
    lines.push('  the database is left as it is: the old version runs on the migrated schema');
  }
  return lines;
}

/** What going ahead does, completing the confirmation's "This will …". */
export function rollbackAction(plan: RollbackPlan): string {
  const what = `run ${plan.target.image} (commit ${plan.target.commitSha.slice(0, 12)}) in place of ${plan.current.image}`;
  if (plan.restoreSnapshot && plan.database.snapshot) {
    return `${what}, after replacing the data in database ${plan.database.snapshot.database} with snapshot ${plan.database.snapshot.ts} (everything written since ${plan.database.snapshot.createdAt} is lost, except in the safety snapshot)`;
  }
  return what;
}

function imageLine(plan: RollbackPlan): string {
  const i = plan.image;
  if (i.status === 'engine') return 'on the Docker engine';
  if (i.status === 'registry') return `in the registry ${i.registry}`;
  if (i.status === 'unknown') return `could not check that it still exists (${i.reason}); the submit step fails if it is gone`;
  return 'missing';
}
