// A rollback's order: which image it runs, which deploy it brings back, and which snapshot it restores first. It is
// recorded in the rollback's saga as `rollback.planned` when it is queued (deploys/queue-rollback.ts), so whichever
// receiver claims the rollback runs exactly what the operator confirmed.
import type { SagaEvent } from '../events/saga-event.js';

/** The saga action that carries a rollback's order. */
export const ROLLBACK_PLANNED = 'rollback.planned';

/** What the rollback's pipeline needs, as recorded in its saga. */
export interface RollbackOrder {
  readonly image: string;
  readonly targetSagaId: string;
  readonly restoresSagaId: string;
  readonly fromImage: string;
  readonly fromSagaId: string;
  /** Set with --restore-snapshot: the snapshot taken before the migrations being undone. */
  readonly restore: {
    readonly ts: string;
    readonly path: string;
    readonly database: string;
    readonly createdAt: string;
    /** The deploy whose migrations the restore undoes, and the files it applied (empty for a migration command). */
    readonly migratingSagaId: string;
    readonly files: readonly string[];
  } | null;
}

/** The order a rollback's saga carries; undefined when the saga has none (or it is malformed). */
export function rollbackOrderOf(events: readonly SagaEvent[]): RollbackOrder | undefined {
  const m = events.find((e) => e.action === ROLLBACK_PLANNED)?.metadata;
  if (!m) return undefined;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const image = text(m.image);
  const targetSagaId = text(m.targetSagaId);
  if (!image || !targetSagaId) return undefined;
  const r = m.restore as Record<string, unknown> | null | undefined;
  const restore =
    r && typeof r === 'object' && text(r.ts) && text(r.path) && text(r.database) && text(r.createdAt) && text(r.migratingSagaId)
      ? {
          ts: String(r.ts),
          path: String(r.path),
          database: String(r.database),
          createdAt: String(r.createdAt),
          migratingSagaId: String(r.migratingSagaId),
          files: Array.isArray(r.files) ? r.files.filter((f): f is string => typeof f === 'string') : [],
        }
      : null;
  return {
    image,
    targetSagaId,
    restoresSagaId: text(m.restoresSagaId) ?? targetSagaId,
    fromImage: text(m.fromImage) ?? '',
    fromSagaId: text(m.fromSagaId) ?? '',
    restore,
  };
}
