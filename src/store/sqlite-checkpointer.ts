// Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits the 1000th WAL page
// copies the WAL back into the database and fsyncs it, stalling every request behind that commit (the ingest
// bench's p99 went from 7 ms to 18 ms). Here the service's connection never checkpoints; a worker thread with
// its own connection runs PASSIVE checkpoints (which never block writers) on a timer. If the worker dies, the
// connection's own checkpoints are switched back on, so the WAL cannot grow without bound.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** The worker, as CommonJS source: no file to resolve, so it runs the same from src/ (tsx) and from dist/. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface SqliteCheckpointerOptions {
  readonly file: string;
  readonly intervalMs: number;
  /** Turns the connection's own automatic checkpoints back on (when the worker is gone). */
  readonly restoreAutoCheckpoint: () => Promise<void>;
  /** The better-sqlite3 module the worker loads; the installed one by default. */
  readonly driver?: string;
}

export class SqliteCheckpointer {
  private stopping = false;

  private constructor(private readonly worker: Worker) {}

  static start(opts: SqliteCheckpointerOptions, deps: { log: Pick<Logger, 'warn' | 'error'> }): SqliteCheckpointer {
    const driver = opts.driver ?? createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: opts.file, intervalMs: opts.intervalMs, driver } });
    const checkpointer = new SqliteCheckpointer(worker);
    // The worker must never keep the process alive on its own.
    worker.unref();
    worker.on('message', (m: { error?: string }) => {
      if (m.error) deps.log.warn({ err: m.error }, 'SQLite checkpoint failed; retrying on the next tick');
    });
    const fallBack = (why: string) => {
      if (checkpointer.stopping) return;
      checkpointer.stopping = true;
      deps.log.error(`SQLite checkpoint worker ${why}; the service's connection checkpoints again`);
      opts.restoreAutoCheckpoint().catch((err: unknown) => deps.log.error({ err }, 'could not restore SQLite automatic checkpoints'));
    };
    worker.on('error', (err) => fallBack(`failed: ${err.message}`));
    worker.on('exit', (code) => fallBack(`exited with ${code}`));
    return checkpointer;
  }

  /** Runs a last checkpoint and ends the worker. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('stop');
    await exited;
  }
}
