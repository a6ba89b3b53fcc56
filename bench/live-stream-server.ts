// The live-stream bench's server side, one process per phase so each phase's memory is its own: `service` runs
// the whole receiver on SQLite and appends saga events through its SagaLog (the hub fans them out to /ws);
// `service-pg` the same on a scratch PostgreSQL database, where events pass through the commit-order step;
// `bare` is a plain `ws` server sending the same envelope to every client. Started by bench/live-stream.ts with
// --expose-gc; talks to it over IPC.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { startService } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createScratchDatabase } from '../test/support/services.js';

export type ServerCommand = { type: 'memory' } | { type: 'emit'; events: number; intervalMs: number } | { type: 'close' };

export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

interface Phase {
  readonly url: string;
  /** Sends event `i`; the message text carries the moment of the append. */
  emit(i: number): Promise<void>;
  close(): Promise<void>;
}

/** The API token /ws asks for, passed as ?token= like the dashboard does. */
const BENCH_TOKEN = 'live-stream-bench-token';
const now = () => performance.timeOrigin + performance.now();
const message = (i: number) => `bench ${i} ${now().toFixed(3)}`;

async function servicePhase(store: 'sqlite' | 'postgres'): Promise<Phase> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-live-'));
  fs.mkdirSync(path.join(root, 'apps'));
  const scratch = store === 'postgres' ? await createScratchDatabase('norn_bench_live') : undefined;
  const env: Record<string, string> = { NORN_PORT: '0', NORN_HOST: '127.0.0.1', NORN_APPS_DIR: path.join(root, 'apps'), NORN_DATA_DIR: path.join(root, 'data'), NORN_LOG_LEVEL: 'warn', NORN_API_TOKEN: BENCH_TOKEN };
  if (scratch) env.NORN_DATABASE_URL = scratch.url;
  // A logger that keeps nothing: an in-memory one would grow during the run and count as memory per client.
  const config = loadConfig(env, root);
  const service = await startService(config, { log: pino({ level: 'warn' }) });
  return {
    url: `${service.url.replace(/^http/, 'ws')}/ws?token=${BENCH_TOKEN}`,
    async emit(i) {
      await service.sagaLog.append({ sagaId: 'bench-saga', source: 'bench', app: 'bench-app', category: 'deploy', action: 'step.progress', message: message(i), metadata: {} });
    },
    async close() {
      await service.close();
      await scratch?.drop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

async function barePhase(): Promise<Phase> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  let seq = 0;
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    async emit(i) {
      // The envelope the service would send for the same event, serialized once for everyone.
      const data = JSON.stringify({ type: 'deploy.progress', appId: 'bench-app', payload: { sagaId: 'bench-saga', step: null, action: 'step.progress', message: message(i) }, seq: ++seq });
      for (const ws of wss.clients) ws.send(data);
    },
    close: () => new Promise((r) => wss.close(() => r())),
  };
}

function memory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

const phase = process.argv[2] === 'bare' ? await barePhase() : await servicePhase(process.argv[2] === 'service-pg' ? 'postgres' : 'sqlite');
process.send!({ type: 'ready', url: phase.url });

process.on('message', async (cmd: ServerCommand) => {
  if (cmd.type === 'memory') {
    process.send!({ type: 'memory', memory: memory() });
  } else if (cmd.type === 'emit') {
    for (let i = 0; i < cmd.events; i++) {
      await phase.emit(i);
      await new Promise((r) => setTimeout(r, cmd.intervalMs));
    }
    process.send!({ type: 'emitted' });
  } else {
    await phase.close();
    process.disconnect();
  }
});
