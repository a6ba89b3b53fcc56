// The live-stream bench's clients, in a process of their own so their work and memory are not the server's.
// Opens N WebSocket connections to the URL the parent sends, then times every message: each carries, in its
// message text, the event's index and the moment it was appended, on the clock shared by the processes of this
// machine (performance.timeOrigin + performance.now()). Started with `serialization: 'advanced'`, so the report's
// samples cross to the parent as typed arrays rather than as JSON.
import WebSocket from 'ws';

export type ClientsCommand = { type: 'connect'; url: string; count: number } | { type: 'report'; events: number } | { type: 'close' };

export interface ClientsReport {
  readonly type: 'report';
  /** Append to arrival in ms, over every (event, client) pair: sent whole, so rounds can be pooled. */
  readonly arrivals: Float64Array;
  /** Append to arrival at the last client, per event. */
  readonly lastClient: Float64Array;
  /** Messages received of the expected events x clients. */
  readonly received: number;
  readonly expected: number;
}

const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
const arrivals: number[] = [];
const lastByEvent = new Map<number, number>();

function onMessage(data: WebSocket.RawData): void {
  const at = now();
  const envelope = JSON.parse(String(data)) as { payload?: { message?: string } };
  const m = /^bench (\d+) (\d+(?:\.\d+)?)$/.exec(envelope.payload?.message ?? '');
  if (!m) return;
  const latency = at - Number(m[2]);
  arrivals.push(latency);
  const event = Number(m[1]);
  lastByEvent.set(event, Math.max(lastByEvent.get(event) ?? 0, latency));
}

function open(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('message', onMessage);
    ws.once('open', () => resolve());
    ws.once('error', reject);
    sockets.push(ws);
  });
}

process.on('message', async (cmd: ClientsCommand) => {
  if (cmd.type === 'connect') {
    // In batches, so the server's accept backlog is never what is being measured.
    for (let i = 0; i < cmd.count; i += 50) await Promise.all(Array.from({ length: Math.min(50, cmd.count - i) }, () => open(cmd.url)));
    process.send!({ type: 'connected', count: sockets.length });
  } else if (cmd.type === 'report') {
    const report: ClientsReport = {
      type: 'report',
      arrivals: Float64Array.from(arrivals),
      lastClient: Float64Array.from(lastByEvent.values()),
      received: arrivals.length,
      expected: cmd.events * sockets.length,
    };
    process.send!(report);
  } else {
    for (const ws of sockets) ws.terminate();
    process.disconnect();
  }
});
