// Keeps the delivery ledger bounded: writes the refusals the throttle counted (one row per address and minute),
// and deletes deliveries that deployed nothing once they are older than the retention (NORN_LEDGER_RETENTION_DAYS),
// in small batches with a pause between them so webhook writes are never held up for long. Deliveries that
// queued a deploy are kept with their sagas.
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { DeliveryLedger } from './delivery-ledger.js';
import type { DeliveryReceiver } from './delivery-receiver.js';

export interface LedgerMaintenanceConfig {
  /** 0 keeps deliveries forever. */
  readonly retentionDays: number;
  readonly flushIntervalMs?: number;
  readonly pruneIntervalMs?: number;
  readonly batchSize?: number;
  readonly batchPauseMs?: number;
}

const DAY_MS = 24 * 3600 * 1000;

export class LedgerMaintenance {
  private timers: NodeJS.Timeout[] = [];
  private pruning: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly config: LedgerMaintenanceConfig,
    private readonly deps: { ledger: DeliveryLedger; receiver: Pick<DeliveryReceiver, 'recordThrottled'>; log: Logger },
  ) {}

  start(): void {
    this.stopped = false;
    const every = (ms: number, run: () => Promise<unknown>) => {
      const timer = setInterval(() => void run().catch((err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'ledger maintenance failed; retried on its next round')), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.flushIntervalMs ?? 15_000, () => this.deps.receiver.recordThrottled());
    if (this.config.retentionDays > 0) {
      every(this.config.pruneIntervalMs ?? 3_600_000, () => this.prune());
      // Once soon after start, so a receiver that restarts often still prunes.
      const first = setTimeout(() => void this.prune().catch(() => undefined), 30_000);
      first.unref();
      this.timers.push(first);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await this.pruning?.catch(() => undefined);
    await this.deps.receiver.recordThrottled(true).catch((err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'could not record the counted refusals at shutdown'));
  }

  /** Deletes everything past the retention, batch by batch; returns how many deliveries it deleted. */
  prune(now = Date.now()): Promise<number> {
    if (this.config.retentionDays <= 0) return Promise.resolve(0);
    this.pruning ??= this.pruneAll(new Date(now - this.config.retentionDays * DAY_MS).toISOString()).finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  private async pruneAll(before: string): Promise<number> {
    const batchSize = this.config.batchSize ?? 500;
    let deleted = 0;
    for (;;) {
      const n = await this.deps.ledger.pruneBatch(before, batchSize);
      deleted += n;
      if (n < batchSize || this.stopped) break;
      await new Promise((r) => setTimeout(r, this.config.batchPauseMs ?? 50));
    }
    if (deleted > 0) this.deps.log.info({ deleted, before }, 'pruned deliveries that deployed nothing, past NORN_LEDGER_RETENTION_DAYS');
    return deleted;
  }
}
