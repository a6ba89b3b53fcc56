// Live stream: 1,000 WebSocket clients on the service's /ws. Saga events are appended through the running
// service's SagaLog (SQLite) at a steady pace; each message's time from append to arrival is measured at every
// client, and memory per client is the server process's growth (after GC) from 0 to N connected clients.
// Peer, in the same run: a bare `ws` server sending the same envelope to as many clients. Each server runs in a
// process of its own, the clients in another, all as built in dist/ (it builds first), as the published image runs
// the service. The phases take turns over several rounds (the order flips each round), so a change in the machine's
// load falls on both alike; latencies are pooled over the rounds, memory is the largest any round saw.
// Targets: p99 under 50 ms, under 50 KB per client.
// Run: npx tsx bench/live-stream.ts [--clients 1000] [--events 300] [--interval-ms 20] [--rounds 3] [--postgres]
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDist, repoRoot } from './build-dist.js';
import type { ClientsCommand, ClientsReport } from './live-stream-clients.js';
import type { Memory, ServerCommand } from './live-stream-server.js';
import { fmtMs, mark, summarize, table, type Summary } from './percentiles.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    events: { type: 'string', default: '300' },
    'interval-ms': { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    postgres: { type: 'boolean', default: false },
  },
});
const clientCount = Number(args.clients);
const events = Number(args.events);
const intervalMs = Number(args['interval-ms']);
const rounds = Number(args.rounds);

/** Starts bench/<name>.ts as built; typed arrays cross the IPC channel as they are. */
function child(name: string, argv: string[], execArgv: string[] = []): ChildProcess {
  return fork(path.join(repoRoot, 'dist', 'bench', `${name}.js`), argv, { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
type PhaseName = keyof typeof PHASE_NAMES;

async function runPhase(phase: PhaseName): Promise<PhaseResult> {
  const server = child('live-stream-server', [phase], ['--expose-gc']);
  const clients = child('live-stream-clients', []);
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
    return { report, idlePerClient: perClient(base, idle), busyPerClient: perClient(base, busy) };
  } finally {
    clients.send({ type: 'close' } satisfies ClientsCommand);
    server.send({ type: 'close' } satisfies ServerCommand);
    await Promise.all([clients, server].map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  }
}

/** One server's rounds, pooled. */
interface Pooled {
  readonly name: string;
  readonly arrivals: Summary;
  readonly lastClient: Summary;
  readonly received: number;
  readonly expected: number;
  /** The largest of any round's (see costPerClient), with the parts shown beside it. */
  readonly perClient: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

function pool(phase: PhaseName, results: readonly PhaseResult[]): Pooled {
  const max = (f: (r: PhaseResult) => number) => Math.max(...results.map(f));
  return {
    name: PHASE_NAMES[phase],
    arrivals: summarize(results.flatMap((r) => Array.from(r.report.arrivals))),
    lastClient: summarize(results.flatMap((r) => Array.from(r.report.lastClient))),
    received: results.reduce((a, r) => a + r.report.received, 0),
    expected: results.reduce((a, r) => a + r.report.expected, 0),
    perClient: max(costPerClient),
    rss: max((r) => Math.max(r.idlePerClient.rss, r.busyPerClient.rss)),
    heapUsed: max((r) => Math.max(r.idlePerClient.heapUsed, r.busyPerClient.heapUsed)),
    external: max((r) => Math.max(r.idlePerClient.external, r.busyPerClient.external)),
  };
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
  buildDist();
  console.log(`live stream: ${clientCount} clients, ${events} events every ${intervalMs} ms, ${rounds} rounds; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs\n`);
  const phases: PhaseName[] = ['service', 'bare', ...(args.postgres ? (['service-pg'] as const) : [])];
  const byPhase = new Map<PhaseName, PhaseResult[]>(phases.map((p) => [p, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? phases : [...phases].reverse();
    const line: string[] = [];
    for (const phase of order) {
      const result = await runPhase(phase);
      byPhase.get(phase)!.push(result);
      line.push(`${PHASE_NAMES[phase]} ${fmtMs(summarize(Array.from(result.report.lastClient)).p99)}`);
    }
    console.log(`round ${r + 1}, last-client p99: ${line.join(', ')}`);
  }
  const results = phases.map((p) => pool(p, byPhase.get(p)!));
  console.log(`\n${table([
    ['server', 'received', 'p50', 'p99', 'max', 'last client p50', 'last client p99', 'memory/client', 'RSS/client', 'heap/client', 'external/client'],
    ...results.map((r) => [
      r.name,
      `${r.received}/${r.expected}`,
      fmtMs(r.arrivals.p50),
      fmtMs(r.arrivals.p99),
      fmtMs(r.arrivals.max),
      fmtMs(r.lastClient.p50),
      fmtMs(r.lastClient.p99),
      kb(r.perClient),
      kb(r.rss),
      kb(r.heapUsed),
      kb(r.external),
    ]),
  ])}`);
  const [svc, bare, pg] = results as [Pooled, Pooled, Pooled | undefined];
  console.log(`\nservice / bare: p99 ${(svc.arrivals.p99 / bare.arrivals.p99).toFixed(2)}x, last-client p99 ` +
    `${(svc.lastClient.p99 / bare.lastClient.p99).toFixed(2)}x, memory per client ${(svc.perClient / bare.perClient).toFixed(2)}x`);
  if (pg) console.log(`PostgreSQL service / bare: p99 ${(pg.arrivals.p99 / bare.arrivals.p99).toFixed(2)}x, every event to every client: ${mark(pg.received === pg.expected)}`);
  const p99 = svc.lastClient.p99;
  console.log(`\ntarget: every client gets every event: ${svc.received}/${svc.expected} -> ${mark(svc.received === svc.expected)}`);
  console.log(`target: p99 append -> arrival at every client under 50 ms: ${fmtMs(p99)} -> ${mark(p99 < 50)}`);
  console.log(`target: under 50 KB per client (the larger of RSS and heap + external growth): ${kb(svc.perClient)} -> ${mark(svc.perClient < 50 * 1024)}`);
  const lastRatio = svc.lastClient.p99 / bare.lastClient.p99;
  console.log(`target (issue 20): last-client p99 at most 1.2x the bare ws broadcast's: ${lastRatio.toFixed(2)}x -> ${mark(lastRatio <= 1.2)}`);
}

await main();
