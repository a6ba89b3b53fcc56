// An operator's verb (scale, restart, logs export, secrets edit, snapshot take, cron pause, ...) recorded as its own
// saga, so the live feed, the CLI and the dashboard show who changed what running app, and how it ended. A deploy
// has its own lifecycle (deploys/); every other verb goes through here, so they all read alike:
// `operation.start` → any `operation.progress` → `operation.complete` or `operation.failed`.
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';

// The actions themselves are in the one union of saga actions (events/saga-actions.ts).
export { OPERATION_ACTIONS, type OperationAction } from '../events/saga-actions.js';

export interface OperationStart {
  readonly app: string;
  /** The verb as the CLI spells it: `scale`, `restart`, `secrets set`, `snapshots take`. */
  readonly verb: string;
  /** What the operator asked for, in words: `scale web to 3`. Never a secret value. */
  readonly summary: string;
  /** Facts about the request (process, count, key name); never a secret value. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Lines written while the operation runs; they land in the saga as `operation.progress`. */
export type OperationReport = (message: string, metadata?: Readonly<Record<string, unknown>>) => Promise<void>;

export interface OperationEnd<T> {
  /** How it ended, in words: `web scaled from 1 to 3`. */
  readonly message: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly result: T;
}

export interface RecordedOperation<T> {
  readonly sagaId: string;
  readonly result: T;
}

/**
 * Runs `work` as one saga. A failure is recorded as `operation.failed` with its message (the saga log's redactor
 * masks secrets in it) and then rethrown unchanged, so the API still answers with the error's own status and hint.
 */
export async function recordOperation<T>(
  sagaLog: Pick<SagaLog, 'append'>,
  start: OperationStart,
  work: (report: OperationReport, sagaId: string) => Promise<OperationEnd<T>>,
): Promise<RecordedOperation<T>> {
  const sagaId = randomUUID();
  const base = { sagaId, app: start.app, source: 'operator', category: 'operation' } as const;
  const verb = { verb: start.verb };
  const startedAt = Date.now();
  await sagaLog.append({ ...base, action: 'operation.start', message: `${start.verb}: ${start.summary}`, metadata: { ...start.metadata, ...verb } });
  const report: OperationReport = async (message, metadata) => {
    await sagaLog.append({ ...base, action: 'operation.progress', message, metadata: { ...metadata, ...verb } });
  };
  try {
    const end = await work(report, sagaId);
    await sagaLog.append({ ...base, action: 'operation.complete', message: end.message, metadata: { ...end.metadata, ...verb, durationMs: Date.now() - startedAt } });
    return { sagaId, result: end.result };
  } catch (err) {
    const error = errorMessage(err);
    await sagaLog.append({ ...base, action: 'operation.failed', message: `${start.verb} failed: ${error}`, metadata: { ...verb, error, durationMs: Date.now() - startedAt } });
    throw err;
  }
}
