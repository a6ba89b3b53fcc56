// The targets of bench/ingest.ts, each started on a free loopback port in its own process: the service on
// SQLite or PostgreSQL (`norn serve`), the bare HMAC server and adnanh/webhook. Each reports the POST URL and,
// for the service, which delivery ids its ledger holds. The service and the bare servers run as built in dist/ (plain
// JavaScript, as the published image runs the service), not through tsx: build first (bench/ingest.ts does).
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import YAML from 'yaml';
import { repoRoot } from './build-dist.js';
import { freePort, startChildReceiver } from '../test/support/child-receiver.js';
import { createScratchDatabase } from '../test/support/services.js';

export interface Target {
  readonly name: string;
  readonly url: string;
  /** The process that serves it, whose CPU time the bench reads from /proc. */
  readonly pid: number;
  /** It records into PostgreSQL, whose server's CPU time counts towards each request too. */
  readonly postgres?: boolean;
  /** Delivery ids starting with `prefix` that the ledger holds; absent for peers, which keep no ledger. */
  ledgerIds?(prefix: string): Promise<Set<string>>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly secret: string;
  /** The repo URL the spec tracks; the bench's push names it only in the tracked variant. */
  readonly trackedRepoUrl: string;
  /** A diagnostic: deliveries are answered without their ledger row being written (bench/without-ledger-write.ts). */
  readonly withoutLedgerWrite?: boolean;
}

export async function startServiceTarget(name: string, opts: ServiceOptions): Promise<Target> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-ingest-'));
  const appsDir = path.join(root, 'apps');
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(path.join(appsDir, 'bench-app'), { recursive: true });
  const spec = {
    name: 'bench-app',
    image: 'registry.example/bench-app:1',
    repo: { url: opts.trackedRepoUrl, branch: 'main', autoDeploy: true },
    processes: { web: { port: 8080, health: { path: '/health' } } },
  };
  fs.writeFileSync(path.join(appsDir, 'bench-app', 'infraspec.yaml'), YAML.stringify(spec));
  const scratch = opts.store === 'postgres' ? await createScratchDatabase('norn_bench_ingest') : undefined;
  const env: Record<string, string> = { NORN_APPS_DIR: appsDir, NORN_DATA_DIR: dataDir, NORN_WEBHOOK_SECRET: opts.secret, NORN_LOG_LEVEL: 'warn' };
  if (scratch) env.NORN_DATABASE_URL = scratch.url;
  const nodeOptions = [process.env.BENCH_NODE_OPTIONS, opts.withoutLedgerWrite ? `--import ${pathToFileURL(path.join(repoRoot, 'dist/bench/without-ledger-write.js')).href}` : undefined];
  if (nodeOptions.some(Boolean)) env.NODE_OPTIONS = nodeOptions.filter(Boolean).join(' ');
  const child = await startChildReceiver(env, { built: true });
  return {
    name,
    url: `${child.url}/api/webhooks/github`,
    pid: child.process.pid!,
    postgres: scratch !== undefined,
    // Without its ledger write there is no ledger to check.
    ...(opts.withoutLedgerWrite
      ? {}
      : {
          async ledgerIds(prefix: string) {
            if (scratch) return pgIds(scratch.url, prefix);
            return sqliteIds(path.join(dataDir, 'norn.sqlite'), prefix);
          },
        }),
    async stop() {
      await child.kill('SIGTERM');
      await scratch?.drop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The bare HMAC server; `recorded: 'sqlite'` also inserts every verified delivery into its own SQLite file,
 * `recorded: 'postgres'` into a scratch PostgreSQL database, batched per event-loop turn.
 */
export async function startBareTarget(secret: string, opts: { recorded?: 'sqlite' | 'postgres' } = {}): Promise<Target> {
  const root = opts.recorded === 'sqlite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-bare-')) : undefined;
  const sqliteFile = root ? path.join(root, 'ledger.sqlite') : undefined;
  const scratch = opts.recorded === 'postgres' ? await createScratchDatabase('norn_bench_bare') : undefined;
  const child = fork(path.join(repoRoot, 'dist/bench/bare-hmac-server.js'), [], {
    execArgv: [],
    env: { ...process.env, BENCH_WEBHOOK_SECRET: secret, ...(sqliteFile ? { BENCH_SQLITE_FILE: sqliteFile } : {}), ...(scratch ? { BENCH_PG_URL: scratch.url } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return {
    name: sqliteFile ? 'bare + SQLite insert' : scratch ? 'bare + PostgreSQL insert (batched)' : 'bare node:http + HMAC',
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid!,
    postgres: scratch !== undefined,
    ...(sqliteFile ? { ledgerIds: (prefix: string) => Promise.resolve(sqliteIds(sqliteFile, prefix)) } : {}),
    ...(scratch ? { ledgerIds: (prefix: string) => pgIds(scratch.url, prefix) } : {}),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
      if (root) fs.rmSync(root, { recursive: true, force: true });
      await scratch?.drop();
    },
  };
}

async function pgIds(url: string, prefix: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ delivery_id: string }>('select delivery_id from deliveries where delivery_id like $1', [`${prefix}%`]);
    return new Set(res.rows.map((r) => r.delivery_id));
  } finally {
    await client.end();
  }
}

function sqliteIds(file: string, prefix: string): Set<string> {
  const db = new Database(file, { readonly: true });
  try {
    return new Set(db.prepare('select delivery_id from deliveries where delivery_id like ?').pluck().all(`${prefix}%`) as string[]);
  } finally {
    db.close();
  }
}

/**
 * adnanh/webhook (Debian's `webhook`) with one hook whose trigger rule checks X-Hub-Signature-256. A matching
 * request runs /bin/true; webhook answers without waiting for it (include-command-output-in-response is off).
 * A rule mismatch answers 401 so bad signatures do not count as 2xx.
 */
export async function startWebhookTarget(secret: string): Promise<Target> {
  const bin = ['/usr/bin/webhook', '/usr/local/bin/webhook'].find((p) => fs.existsSync(p));
  if (!bin) throw new Error('adnanh/webhook not found: apt-get install -y webhook (or pass --no-webhook)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-webhook-'));
  const hooks = [
    {
      id: 'push',
      'execute-command': '/bin/true',
      'http-methods': ['POST'],
      'success-http-response-code': 202,
      'trigger-rule-mismatch-http-response-code': 401,
      'trigger-rule': { match: { type: 'payload-hmac-sha256', secret, parameter: { source: 'header', name: 'X-Hub-Signature-256' } } },
    },
  ];
  const hooksFile = path.join(root, 'hooks.json');
  fs.writeFileSync(hooksFile, JSON.stringify(hooks), { mode: 0o600 });
  const port = await freePort();
  const child = spawn(bin, ['-hooks', hooksFile, '-ip', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.on('data', (d) => stderr.push(String(d)));
  const url = `http://127.0.0.1:${port}/hooks/push`;
  const deadline = Date.now() + 10_000;
  while (!(await fetch(url, { method: 'POST', body: '{}' }).then(() => true, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`webhook did not start: ${stderr.join('').slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'adnanh/webhook (HMAC rule)',
    url,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
