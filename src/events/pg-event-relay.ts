// Several receivers on one PostgreSQL: each append NOTIFYs the sequence numbers it wrote (delivered only when its
// transaction commits), and every other receiver LISTENs, reads exactly those events and hands them to its own
// hub, so a WebSocket client connected to any receiver sees every event.
import pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { SagaEvent } from './saga-event.js';
import type { SagaLog } from './saga-log.js';

const CHANNEL = 'norn_saga_events';

interface Notice {
  readonly origin: string;
  readonly seqs: readonly number[];
}

export class PgEventRelay {
  private client?: pg.Client;
  private stopped = false;

  constructor(
    private readonly config: { databaseUrl: string; origin: string },
    private readonly deps: { sagaLog: SagaLog; publish: (events: readonly SagaEvent[]) => void; log: Logger },
  ) {
    deps.sagaLog.addProjector(async (trx, events) => {
      if (events.length === 0) return;
      const notice: Notice = { origin: config.origin, seqs: events.map((e) => e.seq) };
      await trx.raw('select pg_notify(?, ?)', [CHANNEL, JSON.stringify(notice)]);
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.databaseUrl });
    client.on('notification', (msg) => void this.onNotice(msg.payload));
    client.on('error', (err) => {
      this.deps.log.warn({ err: errorMessage(err) }, 'event relay connection lost; reconnecting');
      if (!this.stopped) setTimeout(() => void this.connect().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private async onNotice(payload: string | undefined): Promise<void> {
    if (!payload) return;
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (notice.origin === this.config.origin || notice.seqs.length === 0) return;
    try {
      const events = await this.deps.sagaLog.bySeqs(notice.seqs);
      this.deps.publish(events);
    } catch (err) {
      this.deps.log.warn({ err: errorMessage(err) }, 'could not read relayed events');
    }
  }
}
