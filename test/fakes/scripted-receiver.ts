// A stand-in receiver for CLI unit tests: answers the deploy and saga requests, and plays a scripted list of
// envelopes on /ws, honouring `?since=` like the real hub. It can cut a connection after a given seq (once each),
// and can replay from further back than asked, to show the CLI drops what it already has.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Envelope } from '../../src/events/saga-event.js';

export interface ScriptedReceiver {
  readonly url: string;
  /** The `since` of each /ws connection, in order. */
  readonly sinces: number[];
  close(): Promise<void>;
}

export const SAGA = '11111111-2222-3333-4444-555555555555';

export async function scriptedReceiver(opts: {
  envelopes: readonly Envelope[];
  /** Cut the socket right after sending this seq (each once). */
  cutAfter?: readonly number[];
  /** Replay this many events before `since` too (a sloppy server). */
  overlap?: number;
  /** Answer the deploy request with this status and error instead. */
  refuse?: { status: number; error: string };
}): Promise<ScriptedReceiver> {
  const sinces: number[] = [];
  const cuts = new Set(opts.cutAfter ?? []);
  const queuedSeq = opts.envelopes[0]?.seq ?? 1;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (opts.refuse) return send(opts.refuse.status, { error: opts.refuse.error });
    if (req.method === 'POST' && req.url === '/api/apps/shop/deploy') return send(202, { deploys: [{ app: 'shop', sagaId: SAGA, commitSha: 'a'.repeat(40) }] });
    if (req.method === 'GET' && req.url === `/api/sagas/${SAGA}`) return send(200, { saga: null, events: [{ action: 'deploy.queued', seq: queuedSeq, sagaId: SAGA }] });
    send(404, { error: `no route ${req.method} ${req.url}` });
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket, req) => {
    const since = Number(new URL(req.url ?? '', 'http://x').searchParams.get('since') ?? 0);
    sinces.push(since);
    const from = opts.envelopes.findIndex((e) => e.seq > since);
    const start = from < 0 ? opts.envelopes.length : Math.max(0, from - (opts.overlap ?? 0));
    for (const e of opts.envelopes.slice(start)) {
      socket.send(JSON.stringify(e));
      if (cuts.delete(e.seq)) return socket.terminate();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sinces,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A deploy of `shop` as the hub would send it: queued, start, then the given step transitions, then the end. */
export function sagaScript(steps: readonly [string, 'complete' | 'failed' | 'skipped', string?][], end: { imageTag?: string } | { failedStep: string; error: string }): Envelope[] {
  let seq = 10;
  const out: Envelope[] = [];
  const push = (type: Envelope['type'], payload: Record<string, unknown>) => out.push({ type, appId: 'shop', seq: seq++, payload: { sagaId: SAGA, ...payload } });
  push('deploy.queued', { ref: 'refs/heads/main', commitSha: 'a'.repeat(40), trigger: 'manual' });
  push('deploy.progress', { step: null, action: 'deploy.start', message: 'deploy of shop at aaaaaaaaaaaa started' });
  steps.forEach(([step, status, message], i) => {
    push('deploy.step', { step, status: 'running', index: i + 1, total: 9, durationMs: null, message: `${step} started` });
    if (step === 'healthy') push('deploy.progress', { step, action: 'alloc.progress', message: 'alloc 1a2b: running, healthy' });
    push('deploy.step', { step, status, index: i + 1, total: 9, durationMs: 1200 + i, message: message ?? `${step} complete` });
  });
  if ('failedStep' in end) push('deploy.failed', { step: end.failedStep, error: `${end.failedStep} failed: ${end.error}`, reason: 'failed' });
  else push('deploy.completed', { imageTag: end.imageTag ?? null, durationMs: 9000 });
  return out;
}
