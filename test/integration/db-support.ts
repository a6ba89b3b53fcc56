// Shared set-up for the db-* tests: a scratch PostgreSQL database for the "app", a Norn store in SQLite memory,
// a snapshots dir, a clock the test moves, and hand-built step contexts that record what a step reported.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { infraspecSchema, type AppSpec } from '../../src/apps/infraspec-schema.js';
import { PostgresAdmin } from '../../src/integrations/postgres/postgres-admin.js';
import { createCommandRunner, type CommandRunner, type RunOptions } from '../../src/integrations/process/run-command.js';
import type { StepProgressAction } from '../../src/events/saga-actions.js';
import type { StepContext, StepOutputs } from '../../src/pipeline/step.js';
import { SnapshotStore } from '../../src/snapshots/snapshot-store.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { createScratchDatabase, testDatabaseUrl, type ScratchDatabase } from '../support/services.js';

export interface RecordedRun {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Mode and content of the passfile while the command ran (it is gone afterwards). */
  readonly passfile?: { mode: number; content: string };
}

/** The real runner, recording each call's argv and environment. */
export function recordingRunner(inner: CommandRunner = createCommandRunner()): { runner: CommandRunner; runs: RecordedRun[] } {
  const runs: RecordedRun[] = [];
  const runner: CommandRunner = async (argv, options: RunOptions = {}) => {
    const file = options.env?.PGPASSFILE;
    const passfile = file
      ? { mode: (await fs.stat(file)).mode & 0o777, content: await fs.readFile(file, 'utf8') }
      : undefined;
    runs.push({ argv: [...argv], env: { ...options.env }, passfile });
    return inner(argv, options);
  };
  return { runner, runs };
}

export interface DbFixture {
  readonly database: string;
  readonly scratch: ScratchDatabase;
  readonly store: Store;
  readonly snapshots: SnapshotStore;
  readonly snapshotsDir: string;
  readonly admin: PostgresAdmin;
  readonly runs: RecordedRun[];
  readonly clock: () => Date;
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Runs SQL in the app database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export function adminFor(adminUrl: string, runner: CommandRunner): PostgresAdmin {
  return new PostgresAdmin({ adminUrl, env: { PATH: process.env.PATH } }, { runner });
}

export async function dbFixture(prefix: string, options: { adminUrl?: string } = {}): Promise<DbFixture> {
  const scratch = await createScratchDatabase(prefix);
  const database = new URL(scratch.url).pathname.slice(1);
  const store = await createStore({ sqliteFile: ':memory:' });
  const snapshotsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'norn-db-test-'));
  const { runner, runs } = recordingRunner();
  let now = Date.parse('2024-05-01T12:00:00.000Z');
  return {
    database,
    scratch,
    store,
    snapshots: new SnapshotStore({ knex: store.knex }),
    snapshotsDir,
    admin: adminFor(options.adminUrl ?? testDatabaseUrl(), runner),
    runs,
    clock: () => new Date(now),
    advance(ms) {
      now += ms;
    },
    async query(sql, params) {
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async close() {
      await store.close();
      await scratch.drop();
      await fs.rm(snapshotsDir, { recursive: true, force: true });
    },
  };
}

/** A valid spec for `app` (parsed, so defaults apply) with the given fields. */
export function appSpec(app: string, fields: Record<string, unknown> = {}): AppSpec {
  return infraspecSchema.parse({ name: app, image: 'registry.local/app:1', processes: { web: { command: 'run' } }, ...fields });
}

export interface Report {
  readonly message: string;
  readonly action?: StepProgressAction;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export function stepContext(
  spec: AppSpec,
  options: { outputs?: StepOutputs; commitSha?: string; signal?: AbortSignal } = {},
): { ctx: StepContext; reports: Report[] } {
  const reports: Report[] = [];
  const ctx: StepContext = {
    sagaId: '00000000-0000-4000-8000-000000000001',
    app: spec.name,
    spec,
    specDir: '/nonexistent/apps/' + spec.name,
    ref: 'refs/heads/main',
    commitSha: options.commitSha ?? '0123456789abcdef0123456789abcdef01234567',
    cloneUrl: 'https://git.example.com/acme/app.git',
    signal: options.signal ?? new AbortController().signal,
    outputs: options.outputs ?? {},
    report: (message, progress) => reports.push({ message, ...progress }),
  };
  return { ctx, reports };
}
