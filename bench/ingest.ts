// Ingest: signed GitHub push deliveries at 16 connections against the service on SQLite and on PostgreSQL, and,
// in the same run, against a bare node:http HMAC check (the ceiling for Node here) and adnanh/webhook.
// By default the push names a repo no app tracks: the service verifies, parses, matches, records the delivery and
// answers 200 "no-match", and no deploy work runs. --tracked adds rows where the push matches an app (every
// delivery also queues a deploy; the scheduler claims the newest, whose clone of a missing local repo fails fast).
// All targets run at once, idle but one; the measured time is split into rounds that visit each target in turn,
// so a change in the machine's background load affects every target alike rather than whichever ran last. It builds
// dist/ first, and runs the service and the bare servers from it: the service as the published image runs it.
// --diagnose adds the service on SQLite with its ledger write skipped (bench/without-ledger-write.ts): everything it
// does but storing, which bounds what making storage cheaper could gain.
// Run: npx tsx bench/ingest.ts [--duration 10] [--rounds 5] [--tracked] [--no-postgres] [--no-webhook] [--diagnose] [--settle-max-s 15]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildDist } from './build-dist.js';
import { githubPush } from '../test/support/signed-delivery.js';
import { runLoad, type LoadResult } from './ingest-load.js';
import { startBareTarget, startServiceTarget, startWebhookTarget, type Target } from './ingest-targets.js';
import { fmtMs, mark, summarize, table } from './percentiles.js';
import { postgresCpuMicros, processCpuMicros } from './process-cpu.js';
import { settle } from './settle.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    tracked: { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    'no-webhook': { type: 'boolean', default: false },
    diagnose: { type: 'boolean', default: false },
    // The longest wait for quiet CPUs after each slice. On a machine kept busy by other work they never go quiet,
    // and every wait runs to this limit; a lower one shortens the run without changing what is measured.
    'settle-max-s': { type: 'string', default: '15' },
  },
});
const durationS = Number(args.duration);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const settleMaxMs = 1000 * Number(args['settle-max-s']);
const SECRET = 'bench-webhook-secret';
const UNTRACKED_REPO = 'https://github.com/norn-bench/untracked';
// A local path that does not exist: a tracked push's deploy fails at clone without touching the network.
const TRACKED_REPO = 'file:///nonexistent/norn-bench/tracked.git';
const WITHOUT_LEDGER_WRITE = 'service, SQLite, no ledger write (diagnostic)';

interface Lane {
  readonly target: Target;
  readonly repoUrl: string;
  readonly prefix: string;
  readonly slices: LoadResult[];
  /** Time the machine stayed busy after this target's slices ended. */
  settleMs: number;
  /** CPU the target's process used during its slices, and PostgreSQL's server when it records there. */
  cpuMicros: number;
  postgresMicros: number;
}

function merged(lane: Lane) {
  const okIds = lane.slices.flatMap((s) => s.okIds);
  const statuses = new Map<number, number>();
  for (const s of lane.slices) for (const [code, n] of s.statuses) statuses.set(code, (statuses.get(code) ?? 0) + n);
  const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
  return {
    okIds,
    statuses,
    sent: lane.slices.reduce((a, s) => a + s.sent, 0),
    answered,
    errors: lane.slices.reduce((a, s) => a + s.errors, 0),
    rate: okIds.length / lane.slices.reduce((a, s) => a + s.elapsedS, 0),
    latency: summarize(lane.slices.flatMap((s) => s.latencies)),
  };
}

async function slice(lane: Lane, durationS: number, idPrefix: string): Promise<LoadResult> {
  const push = githubPush({ secret: SECRET, repoUrl: lane.repoUrl, sha: 'a'.repeat(40) });
  return runLoad({ url: lane.target.url, connections, durationS, headers: push.headers, body: push.body, idPrefix });
}

/** Every answered-2xx delivery is in the ledger, and the only extra rows are requests cut off at a slice's end. */
async function ledgerLine(lane: Lane): Promise<string | undefined> {
  if (!lane.target.ledgerIds) return undefined;
  const m = merged(lane);
  const ids = await lane.target.ledgerIds(lane.prefix);
  const missing = m.okIds.filter((id) => !ids.has(id)).length;
  const cutOff = m.sent - m.answered;
  const extra = ids.size - m.okIds.length;
  const ok = missing === 0 && extra >= 0 && extra <= cutOff;
  return `${ids.size} rows = ${m.okIds.length} answered 2xx + ${extra} cut off in flight at slice ends (of ${cutOff}); ` +
    `answered 2xx but missing: ${missing} -> ${mark(ok)}`;
}

async function main(): Promise<void> {
  buildDist();
  const cpus = os.cpus().length;
  const load0 = os.loadavg()[0]!;
  console.log(`ingest: ${connections} connections, ${durationS} s per target in ${rounds} rounds (after 1 s warm-up), loopback, each server as built in dist/; ` +
    `${cpus} CPUs, load average ${load0.toFixed(1)}`);
  const starts: Array<[() => Promise<Target>, string]> = [
    [() => startServiceTarget('service, SQLite', { store: 'sqlite', secret: SECRET, trackedRepoUrl: TRACKED_REPO }), UNTRACKED_REPO],
  ];
  if (!args['no-postgres']) starts.push([() => startServiceTarget('service, PostgreSQL', { store: 'postgres', secret: SECRET, trackedRepoUrl: TRACKED_REPO }), UNTRACKED_REPO]);
  if (args.tracked) {
    starts.push([() => startServiceTarget('service, SQLite, tracked', { store: 'sqlite', secret: SECRET, trackedRepoUrl: TRACKED_REPO }), TRACKED_REPO]);
    if (!args['no-postgres']) starts.push([() => startServiceTarget('service, PostgreSQL, tracked', { store: 'postgres', secret: SECRET, trackedRepoUrl: TRACKED_REPO }), TRACKED_REPO]);
  }
  if (args.diagnose) {
    const opts = { store: 'sqlite', secret: SECRET, trackedRepoUrl: TRACKED_REPO, withoutLedgerWrite: true } as const;
    starts.push([() => startServiceTarget(WITHOUT_LEDGER_WRITE, opts), UNTRACKED_REPO]);
  }
  starts.push([() => startBareTarget(SECRET), UNTRACKED_REPO]);
  starts.push([() => startBareTarget(SECRET, { recorded: 'sqlite' }), UNTRACKED_REPO]);
  if (!args['no-postgres']) starts.push([() => startBareTarget(SECRET, { recorded: 'postgres' }), UNTRACKED_REPO]);
  if (!args['no-webhook']) starts.push([() => startWebhookTarget(SECRET), UNTRACKED_REPO]);

  const lanes: Lane[] = [];
  try {
    const runId = Date.now().toString(36);
    for (const [start, repoUrl] of starts) lanes.push({ target: await start(), repoUrl, prefix: `run-${runId}-${lanes.length}-`, slices: [], settleMs: 0, cpuMicros: 0, postgresMicros: 0 });
    for (const lane of lanes) {
      await slice(lane, 1, 'warm-'); // JIT, connection pools, page caches
      await settle(undefined, settleMaxMs);
    }
    for (let r = 0; r < rounds; r++) {
      for (const lane of lanes) {
        const cpu0 = processCpuMicros(lane.target.pid);
        const pg0 = lane.target.postgres ? postgresCpuMicros() : 0;
        lane.slices.push(await slice(lane, durationS / rounds, `${lane.prefix}${r}-`));
        // Read at once: the settle below waits out work answered but not yet done, which is not this slice's alone.
        lane.cpuMicros += processCpuMicros(lane.target.pid) - cpu0;
        if (lane.target.postgres) lane.postgresMicros += postgresCpuMicros() - pg0;
        lane.settleMs += await settle(undefined, settleMaxMs);
      }
    }
    await new Promise((r) => setTimeout(r, 500)); // requests cut off at a slice's end finish server-side
    const bareRate = merged(lanes.find((l) => l.target.name === 'bare node:http + HMAC')!).rate;
    const recordedRate = merged(lanes.find((l) => l.target.name === 'bare + SQLite insert')!).rate;
    const rows = lanes.map((lane) => {
      const m = merged(lane);
      const other = [...m.statuses].filter(([s]) => s < 200 || s >= 300).map(([s, n]) => `${s}x${n}`).join(' ') || '-';
      const busyAfter = `${(lane.settleMs / 1000 / rounds).toFixed(1)} s`;
      const cpu = `${(lane.cpuMicros / m.okIds.length).toFixed(0)} µs`;
      const pgCpu = lane.target.postgres ? `${(lane.postgresMicros / m.okIds.length).toFixed(0)} µs` : '-';
      return [lane.target.name, m.rate.toFixed(0), fmtMs(m.latency.p50), fmtMs(m.latency.p99), fmtMs(m.latency.max), `${((100 * m.rate) / bareRate).toFixed(0)}%`, cpu, pgCpu, other, String(m.errors), busyAfter];
    });
    console.log(`\n${table([['target', 'req/s', 'p50', 'p99', 'max', 'vs bare', 'CPU/req', '+ pg/req', 'non-2xx', 'errors', 'busy after'], ...rows])}\n`);
    console.log('(CPU/req: CPU time of the target\'s process, all its threads, during its slices, per 2xx answer; + pg/req: the PostgreSQL');
    console.log(' server\'s, for the targets recording there. The load generator shares the CPUs, so req/s follows CPU/req.)');
    console.log('(busy after: how long the CPUs stayed busy after a slice ended, per slice — work answered but not yet done)\n');
    for (const lane of lanes) {
      const line = await ledgerLine(lane);
      if (line) console.log(`ledger, ${lane.target.name}: ${line}`);
    }
    const sqlite = merged(lanes[0]!);
    const rateOf = (name: string) => {
      const lane = lanes.find((l) => l.target.name === name);
      return lane ? merged(lane).rate : undefined;
    };
    // Issue 20's targets: each against a peer doing the same work, from this run.
    const vsRecorded = sqlite.rate / recordedRate;
    console.log(`\ntarget: service on SQLite >= 0.8x bare + SQLite insert: ${vsRecorded.toFixed(2)}x (${sqlite.rate.toFixed(0)} vs ${recordedRate.toFixed(0)} req/s) -> ${mark(vsRecorded >= 0.8)}`);
    const webhookRate = rateOf('adnanh/webhook (HMAC rule)');
    if (webhookRate) {
      const vsWebhook = sqlite.rate / webhookRate;
      console.log(`target: service on SQLite >= 3x adnanh/webhook: ${vsWebhook.toFixed(2)}x (${webhookRate.toFixed(0)} req/s) -> ${mark(vsWebhook >= 3)}`);
    }
    console.log(`target: service on SQLite p99 < 20 ms at ${connections} connections: ${fmtMs(sqlite.latency.p99)} -> ${mark(sqlite.latency.p99 < 20)}`);
    const postgres = rateOf('service, PostgreSQL');
    const pgPeer = rateOf('bare + PostgreSQL insert (batched)');
    if (postgres && pgPeer) {
      console.log(`target: service on PostgreSQL >= 0.8x bare + PostgreSQL insert (batched): ${(postgres / pgPeer).toFixed(2)}x (${postgres.toFixed(0)} vs ${pgPeer.toFixed(0)} req/s) -> ${mark(postgres / pgPeer >= 0.8)}`);
    }
    // What each answered delivery cost, which explains the rates: on shared CPUs the rate follows it.
    const cpuPerRequest = (name: string) => {
      const lane = lanes.find((l) => l.target.name === name);
      return lane ? (lane.cpuMicros + lane.postgresMicros) / merged(lane).okIds.length : undefined;
    };
    for (const [ours, peer] of [['service, SQLite', 'bare + SQLite insert'], ['service, PostgreSQL', 'bare + PostgreSQL insert (batched)']] as const) {
      const [a, b] = [cpuPerRequest(ours), cpuPerRequest(peer)];
      if (a && b) console.log(`CPU per answered delivery (process + PostgreSQL server), ${ours} vs ${peer}: ${a.toFixed(0)} vs ${b.toFixed(0)} µs (${(a / b).toFixed(2)}x)`);
    }
    const unstored = rateOf(WITHOUT_LEDGER_WRITE);
    if (unstored) {
      console.log(`diagnostic: service with no ledger write at all vs bare + SQLite insert: ${(unstored / recordedRate).toFixed(2)}x (${unstored.toFixed(0)} vs ${recordedRate.toFixed(0)} req/s); ` +
        `CPU per delivery ${(cpuPerRequest(WITHOUT_LEDGER_WRITE) ?? 0).toFixed(0)} µs: the most cheaper storage could give the service on SQLite`);
    }
    console.log(`for scale (issue 10's target): service on SQLite at ${(100 * (sqlite.rate / bareRate)).toFixed(0)}% of the bare server, which records nothing`);
    const load1 = os.loadavg()[0]!;
    if (Math.max(load0, load1) > cpus) console.log(`note: load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} on ${cpus} CPUs; other work shared the machine, absolute figures are low`);
  } finally {
    for (const lane of lanes) await lane.target.stop();
  }
}

await main();
