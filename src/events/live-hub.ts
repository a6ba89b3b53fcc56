// Fans saga events out to WebSocket clients. A client may ask for `since=<seq>`: it first gets what it missed
// from the log, then the live stream, with no gap and no duplicate (live events that arrive during the replay
// are held and sent after it, skipping those the replay already carried). A client whose socket cannot keep up
// is disconnected rather than slowing the others.
import type { Logger } from 'pino';
import { toEnvelope, type SagaEvent } from './saga-event.js';
import type { SagaLog } from './saga-log.js';

/** Where live events come from when they need ordering first (PostgreSQL; see commit-order.ts). */
export interface OrderedEvents {
  subscribe(listener: (events: readonly SagaEvent[]) => void): unknown;
  /** Every event up to this seq has been handed on: a replay must stop there or it could skip ahead of a gap. */
  readonly horizon: number;
}

/** The part of a `ws` WebSocket the hub uses. */
export interface LiveSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'close', listener: () => void): unknown;
}

export interface LiveHubConfig {
  /** Bytes queued on one socket before the client counts as too slow. */
  readonly maxBufferedBytes: number;
  /** Most events replayed for one `since` request. */
  readonly maxReplay: number;
}

interface Client {
  readonly socket: LiveSocket;
  readonly app?: string;
  /** Live events held back while the replay runs; undefined once live. */
  pending?: SagaEvent[];
}

const OPEN = 1;

export class LiveHub {
  private readonly clients = new Set<Client>();

  constructor(
    private readonly config: LiveHubConfig,
    private readonly deps: { sagaLog: SagaLog; log: Logger; ordered?: OrderedEvents },
  ) {
    (deps.ordered ?? deps.sagaLog).subscribe((events) => this.publish(events));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async add(socket: LiveSocket, opts: { app?: string; since?: number }): Promise<void> {
    const client: Client = { socket, app: opts.app, pending: opts.since !== undefined ? [] : undefined };
    this.clients.add(client);
    socket.on('close', () => this.clients.delete(client));
    if (opts.since === undefined) return;
    let sentUpTo = opts.since;
    // Read now, in the same tick the client joined: every event published from here on lies above it.
    const upTo = this.deps.ordered?.horizon;
    try {
      const missed = await this.deps.sagaLog.since(opts.since, { app: opts.app, limit: this.config.maxReplay, upTo });
      for (const e of missed) {
        this.sendTo(client, e);
        sentUpTo = Math.max(sentUpTo, e.seq);
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'replay failed');
      socket.close(1011, 'replay failed');
      return;
    }
    const held = client.pending ?? [];
    client.pending = undefined;
    for (const e of held) if (e.seq > sentUpTo) this.sendTo(client, e);
  }

  publish(events: readonly SagaEvent[]): void {
    // Event by event, so each client still gets them in order; each is serialised once, not once per client.
    for (const e of events) {
      let data: string | undefined;
      for (const client of this.clients) {
        if (client.app && client.app !== e.app) continue;
        if (client.pending) client.pending.push(e);
        else this.sendTo(client, e, (data ??= JSON.stringify(toEnvelope(e))));
      }
    }
  }

  closeAll(): void {
    for (const c of this.clients) c.socket.close(1001, 'server shutting down');
    this.clients.clear();
  }

  /** `data` is `e`'s envelope already serialised, when the caller has it. */
  private sendTo(client: Client, e: SagaEvent, data?: string): void {
    const { socket } = client;
    if (socket.readyState !== OPEN) return;
    if (socket.bufferedAmount > this.config.maxBufferedBytes) {
      this.deps.log.warn({ app: client.app }, 'disconnecting a slow WebSocket client');
      this.clients.delete(client);
      socket.terminate();
      return;
    }
    socket.send(data ?? JSON.stringify(toEnvelope(e)));
  }
}
