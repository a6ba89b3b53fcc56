// Fans saga events out to WebSocket clients. A client may ask for `since=<seq>`: it first gets what it missed
// from the log, then the live stream, with no gap and no duplicate (live events that arrive during the replay
// are held and sent after it, skipping those the replay already carried). A client whose socket cannot keep up
// is disconnected rather than slowing the others.
import type { Logger } from 'pino';
import { toEnvelope, type SagaEvent } from './saga-event.js';
import type { SagaLog } from './saga-log.js';

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
    private readonly deps: { sagaLog: SagaLog; log: Logger },
  ) {
    deps.sagaLog.subscribe((events) => this.publish(events));
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
    try {
      const missed = await this.deps.sagaLog.since(opts.since, { app: opts.app, limit: this.config.maxReplay });
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
    for (const client of this.clients) {
      for (const e of events) {
        if (client.app && client.app !== e.app) continue;
        if (client.pending) client.pending.push(e);
        else this.sendTo(client, e);
      }
    }
  }

  closeAll(): void {
    for (const c of this.clients) c.socket.close(1001, 'server shutting down');
    this.clients.clear();
  }

  private sendTo(client: Client, e: SagaEvent): void {
    const { socket } = client;
    if (socket.readyState !== OPEN) return;
    if (socket.bufferedAmount > this.config.maxBufferedBytes) {
      this.deps.log.warn({ app: client.app }, 'disconnecting a slow WebSocket client');
      this.clients.delete(client);
      socket.terminate();
      return;
    }
    socket.send(JSON.stringify(toEnvelope(e)));
  }
}
