// The ledger of every webhook delivery received: its verdict, the answer given, and the decision trace (the
// answer to "why did nothing deploy?"). Accepted deliveries are unique on forge + delivery id.
import type { Knex } from 'knex';
import { storeClientOf } from '../store/create-store.js';
import { preparedPerConnection } from '../store/prepared-per-connection.js';
import { SqliteGroupCommit } from '../store/sqlite-group-commit.js';
import { TickBatcher, type BatchOutcome } from '../store/tick-batcher.js';
import type { ForgeName } from '../webhooks/forge-adapter.js';

export type Verdict = 'queued' | 'no-match' | 'ignored' | 'ping' | 'rejected';

export interface DecisionTrace {
  readonly signature: 'valid' | 'invalid' | 'missing' | 'not checked';
  readonly event?: string;
  readonly ref?: string;
  readonly commitSha?: string;
  readonly steps: readonly string[];
  readonly apps: readonly { app: string; matched: boolean; reason: string }[];
  readonly invalidSpecs: readonly { file: string; path: string; reason: string }[];
  /** Warnings of the specs of the apps this delivery queued (unknown fields, settings not acted on). */
  readonly specWarnings?: readonly { app: string; path: string; reason: string }[];
}

export interface DeliveryRecord {
  readonly id: string;
  readonly forge: ForgeName;
  readonly deliveryId: string;
  readonly event: string | null;
  readonly verdict: Verdict;
  readonly statusCode: number;
  readonly reason: string;
  readonly trace: DecisionTrace;
  readonly response: Record<string, unknown>;
  readonly repo: string | null;
  readonly ref: string | null;
  readonly commitSha: string | null;
  readonly redeliveryOf: string | null;
  readonly receivedAt: string;
}

/** What a redelivery needs: the verified bytes and headers as received. */
export interface StoredPayload {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

interface Row {
  id: string;
  forge: string;
  delivery_id: string;
  dedupe_key: string | null;
  event: string | null;
  verdict: string;
  status_code: number;
  reason: string;
  trace: string;
  response: string;
  repo: string | null;
  ref: string | null;
  commit_sha: string | null;
  redelivery_of: string | null;
  headers: string | null;
  /** The body as received (migration 007). */
  body_bytes: Buffer | null;
  /** Rows stored before migration 007 only: raw bytes on SQLite (a BLOB), base64 text on PostgreSQL. */
  body?: Buffer | string | null;
  received_at: string;
}

export type NewDelivery = Omit<DeliveryRecord, 'receivedAt'> & {
  readonly receivedAt?: string;
  /** Set for accepted deliveries only (so a rejected forgery cannot claim a real delivery id). */
  readonly dedupe: boolean;
  readonly payload?: StoredPayload;
};

const COLUMNS = ['id', 'forge', 'delivery_id', 'dedupe_key', 'event', 'verdict', 'status_code', 'reason', 'trace', 'response', 'repo', 'ref', 'commit_sha', 'redelivery_of', 'headers', 'body_bytes', 'received_at'] as const satisfies readonly (keyof Row)[];
const INSERT_SQL = `insert into deliveries (${COLUMNS.join(', ')}) values (${COLUMNS.map((c) => `@${c}`).join(', ')}) on conflict (dedupe_key) do nothing`;

export class DeliveryLedger {
  private readonly insertStatement = preparedPerConnection(INSERT_SQL);
  /** PostgreSQL multi-row inserts by row count (at most the batcher's largest batch). */
  private readonly multiRowSql = new Map<number, string>();
  /** Inserts outside a transaction, batched with others arriving at the same moment (see `batched`). */
  private readonly autocommitInsert: (row: Row) => Promise<boolean>;

  constructor(
    private readonly deps: {
      knex: Knex;
      /**
       * Deliveries recorded outside a transaction (most of them) share a commit with those arriving at the same
       * moment: on SQLite one transaction of prepared inserts, on PostgreSQL one multi-row insert. Off, each is
       * its own statement.
       */
      batched?: boolean;
    },
  ) {
    const client = storeClientOf(deps.knex);
    if (deps.batched && client === 'sqlite') {
      const commits = new SqliteGroupCommit({ knex: deps.knex });
      this.autocommitInsert = (row) => commits.run((conn) => this.insertStatement(conn).run(row).changes === 1);
    } else if (deps.batched && client === 'postgres') {
      const batcher = new TickBatcher<Row, boolean>((rows) => this.insertRows(rows));
      this.autocommitInsert = (row) => batcher.run(row);
    } else {
      this.autocommitInsert = (row) => this.insertRow(deps.knex, row);
    }
  }

  /**
   * Inserts the delivery in `db`. Returns false, inserting nothing, when an accepted delivery with the same forge
   * and id is already recorded (the caller answers with that one).
   */
  async insertIn(db: Knex | Knex.Transaction, d: NewDelivery): Promise<boolean> {
    const row: Row = {
      id: d.id,
      forge: d.forge,
      delivery_id: d.deliveryId.slice(0, 200),
      dedupe_key: d.dedupe ? dedupeKey(d.forge, d.deliveryId) : null,
      event: d.event?.slice(0, 64) ?? null,
      verdict: d.verdict,
      status_code: d.statusCode,
      reason: d.reason.slice(0, 2000),
      trace: JSON.stringify(d.trace),
      response: JSON.stringify(d.response),
      repo: d.repo?.slice(0, 300) ?? null,
      ref: d.ref?.slice(0, 300) ?? null,
      commit_sha: d.commitSha,
      redelivery_of: d.redeliveryOf,
      headers: d.payload ? JSON.stringify(d.payload.headers) : null,
      body_bytes: d.payload ? d.payload.body : null,
      received_at: d.receivedAt ?? new Date().toISOString(),
    };
    return db === this.deps.knex ? this.autocommitInsert(row) : this.insertRow(db, row);
  }

  private async insertRow(db: Knex | Knex.Transaction, row: Row): Promise<boolean> {
    const inserted = await db('deliveries').insert(row).onConflict('dedupe_key').ignore().returning('id');
    return inserted.length === 1;
  }

  /**
   * One multi-row insert; a row whose dedupe key is taken (by an earlier row, or one earlier in the batch) is
   * skipped. If the statement fails, each row is tried alone, so one bad row fails alone.
   */
  private async insertRows(rows: readonly Row[]): Promise<BatchOutcome<boolean>[]> {
    try {
      const ids = await this.insertMany(rows);
      return rows.map((r) => ({ ok: true, value: ids.has(r.id) }));
    } catch {
      return Promise.all(rows.map((r) => this.insertRow(this.deps.knex, r).then((value) => ({ ok: true as const, value }), (err: unknown) => ({ ok: false as const, err }))));
    }
  }

  /**
   * One multi-row insert on PostgreSQL, straight through the driver: knex would compile the same statement again for
   * every batch, which cost more than the insert. Returns the ids inserted.
   */
  private async insertMany(rows: readonly Row[]): Promise<Set<string>> {
    const client = this.deps.knex.client as unknown as KnexPoolClient;
    const conn = await client.acquireConnection();
    try {
      const values: unknown[] = [];
      for (const row of rows) for (const column of COLUMNS) values.push(row[column]);
      let text = this.multiRowSql.get(rows.length);
      if (!text) this.multiRowSql.set(rows.length, (text = multiRowInsertSql(rows.length)));
      const result = await conn.query({ text, values });
      return new Set(result.rows.map((r) => r.id));
    } finally {
      await client.releaseConnection(conn);
    }
  }

  async findAccepted(forge: ForgeName, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const row = await this.deps.knex<Row>('deliveries').where({ dedupe_key: dedupeKey(forge, deliveryId) }).first();
    return row ? fromRow(row) : undefined;
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.deps.knex<Row>('deliveries').where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  async payload(id: string): Promise<StoredPayload | undefined> {
    const row = await this.deps.knex<Row>('deliveries').where({ id }).first('headers', 'body_bytes', 'body');
    if (!row?.headers) return undefined;
    const body = row.body_bytes ?? legacyBody(row.body);
    return body ? { headers: JSON.parse(row.headers) as Record<string, string>, body } : undefined;
  }

  async list(opts: { app?: string; verdict?: Verdict; limit: number }): Promise<DeliveryRecord[]> {
    const q = this.deps.knex<Row>('deliveries').orderBy('received_at', 'desc').orderBy('id').limit(opts.limit);
    if (opts.verdict) q.where({ verdict: opts.verdict });
    if (opts.app) {
      const app = opts.app;
      q.whereIn('id', this.deps.knex('deploys').where({ app }).whereNotNull('delivery_id').select('delivery_id'));
    }
    return (await q).map(fromRow);
  }

  /**
   * Deletes up to `batchSize` deliveries received before `before` that deployed nothing (every verdict but queued),
   * leaving any a deploy or a redelivery still points at. Returns how many it deleted; call again while that is
   * `batchSize`, so each statement stays short next to the webhook writes.
   */
  async pruneBatch(before: string, batchSize: number): Promise<number> {
    const { knex } = this.deps;
    const ids = await knex('deliveries as d')
      .where('d.received_at', '<', before)
      .whereNot('d.verdict', 'queued')
      .whereNotExists(knex('deploys').whereRaw('deploys.delivery_id = d.id'))
      .whereNotExists(knex('deliveries as r').whereRaw('r.redelivery_of = d.id'))
      .orderBy('d.received_at')
      .limit(batchSize)
      .pluck('d.id');
    if (ids.length === 0) return 0;
    return knex('deliveries').whereIn('id', ids).delete();
  }

  async count(): Promise<number> {
    const row = await this.deps.knex('deliveries').count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }
}

/** Knex's pool on PostgreSQL, as far as `insertMany` needs it (not in knex's public types): pg clients. */
interface KnexPoolClient {
  acquireConnection(): Promise<{ query(q: { text: string; values: unknown[] }): Promise<{ rows: { id: string }[] }> }>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

/** The PostgreSQL insert of `n` rows ($1.. in COLUMNS order, row after row). */
function multiRowInsertSql(n: number): string {
  const tuples = Array.from({ length: n }, (_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`);
  return `insert into deliveries (${COLUMNS.join(', ')}) values ${tuples.join(', ')} on conflict (dedupe_key) do nothing returning id`;
}

/**
 * A body stored before migration 007: base64 text (PostgreSQL's, and SQLite's oldest rows) or raw bytes (SQLite's
 * BLOBs in the text column).
 */
function legacyBody(body: Buffer | string | null | undefined): Buffer | undefined {
  if (!body) return undefined;
  return Buffer.isBuffer(body) ? body : Buffer.from(body, 'base64');
}

function dedupeKey(forge: ForgeName, deliveryId: string): string {
  return `${forge}:${deliveryId}`.slice(0, 240);
}

function fromRow(r: Row): DeliveryRecord {
  return {
    id: r.id,
    forge: r.forge as ForgeName,
    deliveryId: r.delivery_id,
    event: r.event,
    verdict: r.verdict as Verdict,
    statusCode: Number(r.status_code),
    reason: r.reason,
    trace: JSON.parse(r.trace) as DecisionTrace,
    response: JSON.parse(r.response) as Record<string, unknown>,
    repo: r.repo,
    ref: r.ref,
    commitSha: r.commit_sha,
    redeliveryOf: r.redelivery_of,
    receivedAt: r.received_at,
  };
}
