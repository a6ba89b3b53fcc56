// Runs an operator's verb (scale, restart) after the API has answered: the request gets its saga id at once (202)
// and the verb records its progress and end in that saga (operation-saga.ts). One verb at a time per app, so two
// restarts cannot roll over each other; `close()` (service shutdown) aborts what runs and waits for its saga to end.
import type { Logger } from 'pino';
import { errorMessage, InvalidInputError } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';
import { type OperationEnd, type OperationReport, type OperationStart, recordOperation } from './operation-saga.js';

export class OperationRunner {
  private readonly running = new Map<string, { readonly abort: AbortController; readonly done: Promise<unknown> }>();

  constructor(private readonly deps: { sagaLog: Pick<SagaLog, 'append'>; log: Logger }) {}

  /** The verb running for `app` now, if any. */
  isBusy(app: string): boolean {
    return this.running.has(app);
  }

  /**
   * Starts `work` in its own saga and resolves with the saga id once `operation.start` is recorded; the work goes
   * on after. Throws a 409 InvalidInputError when a verb of the app runs already (checked and taken in one step, so
   * two requests at once cannot both start); rejects when the saga cannot be written.
   */
  start<T>(start: OperationStart, work: (report: OperationReport, signal: AbortSignal) => Promise<OperationEnd<T>>): Promise<string> {
    if (this.running.has(start.app)) throw new InvalidInputError('app', `another scale or restart of ${start.app} is running; wait for it to end`, 409);
    const abort = new AbortController();
    let started!: (sagaId: string) => void;
    const sagaIdKnown = new Promise<string>((resolve) => (started = resolve));
    const done = recordOperation(this.deps.sagaLog, start, (report, sagaId) => {
      started(sagaId);
      return work(report, abort.signal);
    })
      .catch((err: unknown) => this.deps.log.warn({ app: start.app, verb: start.verb, err: errorMessage(err) }, `${start.verb} of ${start.app} failed`))
      .finally(() => this.running.delete(start.app));
    this.running.set(start.app, { abort, done });
    // recordOperation only fails before calling work when it cannot append `operation.start`.
    const failedToStart = recordFailure(done, sagaIdKnown);
    return Promise.race([sagaIdKnown, failedToStart]);
  }

  async close(): Promise<void> {
    for (const [app, { abort }] of this.running) {
      abort.abort(new Error(`the receiver shut down while it ran, so it may have stopped part way; check what runs (norn status ${app}) and run it again`));
    }
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }
}

/** Rejects when `done` settles before the saga id was known (the start could not be recorded). */
function recordFailure(done: Promise<unknown>, sagaIdKnown: Promise<string>): Promise<never> {
  let known = false;
  void sagaIdKnown.then(() => (known = true));
  return new Promise<never>((_, reject) => {
    void done.then(() => {
      if (!known) reject(new Error('the operation could not be recorded in the saga log'));
    });
  });
}
