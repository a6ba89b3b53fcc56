// Follows `/ws` and hands each envelope to a handler exactly once, in seq order. When the socket drops it
// reconnects with `?since=<last seq seen>`: the hub replays what was missed before going live, and anything at or
// below the last seq (a replay overlapping what already arrived) is dropped here, so nothing repeats or goes
// missing. A close with 1008 is the server refusing us (token, bad query): that is final, not retried.
import WebSocket from 'ws';
import type { ApiClient } from './api-client.js';
import { ApiError } from './api-client.js';
import type { Envelope } from './api-types.js';

/** Return true when the handler has seen what it waited for; the feed then closes and resolves. */
export type EnvelopeHandler = (envelope: Envelope) => boolean | void;

export interface LiveFeedOptions {
  readonly app?: string;
  /** Start after this seq (what the hub replays first). */
  readonly since: number;
  /** Waits before each reconnect attempt in a row; the feed gives up when they run out. */
  readonly retryDelaysMs?: readonly number[];
  readonly onReconnecting?: (info: { attempt: number; since: number; reason: string }) => void;
}

export interface LiveFeedDeps {
  readonly connect?: (url: string, headers: Record<string, string>) => WebSocket;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Stops following: the socket is closed and the feed resolves. */
  readonly signal?: AbortSignal;
}

const DEFAULT_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000];
const POLICY_VIOLATION = 1008;

type Attempt = { kind: 'done' } | { kind: 'dropped'; reason: string; sawEvents: boolean } | { kind: 'refused'; reason: string };

export async function followLiveFeed(api: ApiClient, opts: LiveFeedOptions, handle: EnvelopeHandler, deps: LiveFeedDeps = {}): Promise<void> {
  const connect = deps.connect ?? ((url, headers) => new WebSocket(url, { headers }));
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const delays = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const cursor = { lastSeq: opts.since };
  let failuresInARow = 0;
  let everConnected = false;
  for (;;) {
    if (deps.signal?.aborted) return;
    const socket = connect(api.liveUrl({ app: opts.app, since: cursor.lastSeq }), api.authHeaders());
    const attempt = await runSocket(socket, cursor, handle, { onOpen: () => (everConnected = true), signal: deps.signal });
    if (attempt.kind === 'done') return;
    if (attempt.kind === 'refused') throw new ApiError(0, `the receiver refused the live stream: ${attempt.reason}`);
    failuresInARow = attempt.sawEvents ? 1 : failuresInARow + 1;
    const delay = delays[failuresInARow - 1];
    if (delay === undefined) {
      if (!everConnected) throw api.unreachable();
      throw new ApiError(0, `lost the live stream from ${api.baseUrl} and could not reconnect (${attempt.reason})`);
    }
    opts.onReconnecting?.({ attempt: failuresInARow, since: cursor.lastSeq, reason: attempt.reason });
    await sleep(delay);
  }
}

function runSocket(socket: WebSocket, cursor: { lastSeq: number }, handle: EnvelopeHandler, opts: { onOpen: () => void; signal?: AbortSignal }): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    let done = false;
    let sawEvents = false;
    let failure: unknown;
    let lastError = 'connection closed';
    const stop = () => {
      done = true;
      socket.close(1000);
    };
    opts.signal?.addEventListener('abort', stop, { once: true });
    socket.on('open', opts.onOpen);
    socket.on('message', (data) => {
      if (done || failure) return;
      let envelope: Envelope;
      try {
        envelope = JSON.parse(String(data)) as Envelope;
      } catch {
        return; // not an envelope; the stream carries nothing else we could use
      }
      if (typeof envelope.seq !== 'number' || envelope.seq <= cursor.lastSeq) return;
      cursor.lastSeq = envelope.seq;
      sawEvents = true;
      try {
        done = handle(envelope) === true;
      } catch (err) {
        failure = err;
      }
      if (done || failure) socket.close(1000);
    });
    socket.on('error', (err) => (lastError = err.message));
    socket.on('close', (code, reason) => {
      opts.signal?.removeEventListener('abort', stop);
      if (failure) return reject(failure);
      if (done) return resolve({ kind: 'done' });
      const text = reason.toString() || lastError;
      resolve(code === POLICY_VIOLATION ? { kind: 'refused', reason: text } : { kind: 'dropped', reason: text, sawEvents });
    });
  });
}
