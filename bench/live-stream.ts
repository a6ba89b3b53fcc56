// Live stream: 1,000 WebSocket clients on the service's /ws. Saga events are appended through the running
// service's SagaLog (SQLite) at a steady pace; each message's time from append to arrival is measured at every
// client, and memory per client is the server process's growth (after GC) from 0 to N connected clients.
// Peer, in the same run: a bare `ws` server sending the same envelope to as many clients. Each server runs in a
// process of its own, the clients in another. Targets: p99 under 50 ms, under 50 KB per client.
// Run: npx tsx bench/live-stream.ts [--clients 1000] [--events 300] [--interval-ms 20]
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClientsCommand, ClientsReport } from './live-stream-clients.js';
import type { Memory, ServerCommand } from './live-stream-server.js';
import { fmtMs, mark, table } from './percentiles.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    events: { type: 'string', default: '300' },
    'interval-ms': { type: 'string', default: '20' },
    postgres: { type: 'boolean', default: false },
  },
});
const clientCount = Number(args.clients);
const events = Number(args.events);
const intervalMs = Number(args['interval-ms']);
const benchDir = path.dirname(fileURLToPath(import.meta.url));

function child(file: string, argv: string[], execArgv: string[] = []): ChildProcess {
  return fork(path.join(benchDir, file), argv, { execArgv: [...execArgv, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Sends `cmd` (if any) and resolves with the next message of type `type`. */
function ask<T>(proc: ChildProcess, type: string, cmd?: unknown, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} from ${proc.spawnfile} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      proc.off('message', onMessage);
      resolve(m as T);
    };
    proc.on('message', onMessage);
    proc.once('exit', (code) => reject(new Error(`${proc.spawnfile} exited with ${code} before ${type}`)));
    if (cmd) proc.send(cmd as object);
  });
}

interface PhaseResult {
  readonly name: string;
  readonly report: ClientsReport;
  readonly idlePerClient: Memory;
  readonly busyPerClient: Memory;
}

const perClient = (a: Memory, b: Memory): Memory => ({
  rss: (b.rss - a.rss) / clientCount,
  heapUsed: (b.heapUsed - a.heapUsed) / clientCount,
  external: (b.external - a.external) / clientCount,
});

const PHASE_NAMES = { service: 'service /ws (SQLite)', 'service-pg': 'service /ws (PostgreSQL)', bare: 'bare ws broadcast' } as const;

async function runPhase(phase: keyof typeof PHASE_NAMES): Promise<PhaseResult> {
  const server = child('live-stream-server.ts', [phase], ['--expose-gc']);
  const clients = child('live-stream-clients.ts', []);
  try {
    const { url } = await ask<{ url: string }>(server, 'ready');
    const base = (await ask<{ memory: Memory }>(server, 'memory', { type: 'memory' } satisfies ServerCommand)).memory;
    const { count } = await ask<{ count: number }>(clients, 'connected', { type: 'connect', url, count: clientCount } satisfies ClientsCommand);
    if (count !== clientCount) throw new Error(`${count} of ${clientCount} clients connected`);
    const idle = (await ask<{ memory: Memory }>(server, 'memory', { type: 'memory' } satisfies ServerCommand)).memory;
    await ask(server, 'emitted', { type: 'emit', events, intervalMs } satisfies ServerCommand, events * intervalMs * 10 + 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // the last messages in flight
    const busy = (await ask<{ memory: Memory }>(server, 'memory', { type: 'memory' } satisfies ServerCommand)).memory;
    const report = await ask<ClientsReport>(clients, 'report', { type: 'report', events } satisfies ClientsCommand);
    return { name: PHASE_NAMES[phase], report, idlePerClient: perClient(base, idle), busyPerClient: perClient(base, busy) };
  } finally {
    clients.send({ type: 'close' } satisfies ClientsCommand);
    server.send({ type: 'close' } satisfies ServerCommand);
    await Promise.all([clients, server].map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/**
 * The memory a client costs: RSS growth, or heap + external growth when that is larger (RSS can even shrink
 * when a GC returns startup garbage to the system), whichever of idle and after-traffic is larger.
 */
function costPerClient(r: PhaseResult): number {
  const one = (m: Memory) => Math.max(m.rss, m.heapUsed + m.external);
  return Math.max(one(r.idlePerClient), one(r.busyPerClient));
}

async function main(): Promise<void> {
  console.log(`live stream: ${clientCount} clients, ${events} events every ${intervalMs} ms; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs\n`);
  const results = [await runPhase('service'), await runPhase('bare')];
  if (args.postgres) results.push(await runPhase('service-pg'));
  console.log(table([
    ['server', 'received', 'p50', 'p99', 'max', 'last client p50', 'last client p99', 'memory/client', 'RSS/client', 'heap/client', 'external/client'],
    ...results.map((r) => [
      r.name,
      `${r.report.received}/${r.report.expected}`,
      fmtMs(r.report.arrivals.p50),
      fmtMs(r.report.arrivals.p99),
      fmtMs(r.report.arrivals.max),
      fmtMs(r.report.lastClient.p50),
      fmtMs(r.report.lastClient.p99),
      kb(costPerClient(r)),
      kb(Math.max(r.idlePerClient.rss, r.busyPerClient.rss)),
      kb(Math.max(r.idlePerClient.heapUsed, r.busyPerClient.heapUsed)),
      kb(Math.max(r.idlePerClient.external, r.busyPerClient.external)),
    ]),
  ]));
  const [svc, bare] = results as [PhaseResult, PhaseResult];
  console.log(`\nservice / bare: p99 ${(svc.report.arrivals.p99 / bare.report.arrivals.p99).toFixed(2)}x, last-client p99 ` +
    `${(svc.report.lastClient.p99 / bare.report.lastClient.p99).toFixed(2)}x, memory per client ${(costPerClient(svc) / costPerClient(bare)).toFixed(2)}x`);
  const p99 = svc.report.lastClient.p99;
  const perClient = costPerClient(svc);
  const complete = svc.report.received === svc.report.expected;
  const pg = results[2];
  if (pg) console.log(`PostgreSQL service / bare: p99 ${(pg.report.arrivals.p99 / bare.report.arrivals.p99).toFixed(2)}x, every event to every client: ${mark(pg.report.received === pg.report.expected)}`);
  console.log(`\ntarget: every client gets every event: ${svc.report.received}/${svc.report.expected} -> ${mark(complete)}`);
  console.log(`target: p99 append -> arrival at every client under 50 ms: ${fmtMs(p99)} -> ${mark(p99 < 50)}`);
  console.log(`target: under 50 KB per client (the larger of RSS and heap + external growth): ${kb(perClient)} -> ${mark(perClient < 50 * 1024)}`);
  const lastRatio = svc.report.lastClient.p99 / bare.report.lastClient.p99;
  console.log(`target (issue 20): last-client p99 at most 1.2x the bare ws broadcast's: ${lastRatio.toFixed(2)}x -> ${mark(lastRatio <= 1.2)}`);
}

await main();
