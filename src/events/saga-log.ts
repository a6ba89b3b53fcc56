// The append-only saga log. Events are never updated or deleted. Appends inside a transaction are announced to
// listeners (the live hub, the status outbox) only after the caller commits, via `announce`.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { storeClientOf, type StoreClient } from '../store/create-store.js';
import { preparedPerConnection } from '../store/prepared-per-connection.js';
import { SqliteGroupCommit } from '../store/sqlite-group-commit.js';
import type { SagaAction } from './saga-actions.js';
import type { NewSagaEvent, SagaEvent } from './saga-event.js';

export type SagaListener = (events: readonly SagaEvent[]) => void;

/** Masks configured secrets; redaction/secret-redactor.ts implements it (the log at the bottom imports nothing above). */
export interface EventRedactor {
  redact(text: string): string;
  redactDeep<T>(value: T): T;
}

/**
 * Runs inside the transaction that appends events, so what it writes (the commit-status outbox) commits or rolls
 * back with them: a status is never lost between an event and its delivery.
 */
export type SagaProjector = (db: Knex.Transaction, events: readonly SagaEvent[]) => Promise<void>;

/** Whether a projector has anything to do with `event`; a projector registered without one takes every event. */
export type ProjectorFilter = (event: NewSagaEvent) => boolean;

interface Row {
  seq: number;
  id: string;
  saga_id: string;
  timestamp: string;
  source: string;
  app: string;
  category: string;
  action: string;
  message: string;
  metadata: string;
}

/**
 * On PostgreSQL an event's seq is taken from a sequence when it is inserted, but transactions commit in any order,
 * so seq 9 may become visible after seq 10, or never (rolled back). Each appending transaction therefore holds an
 * advisory lock keyed by each seq it wrote until it ends: a reader that finds a gap can tell a seq still in flight
 * (lock held) from one that will never come (lock free, row absent). See commit-order.ts. Key: 'NORN' << 32 | seq.
 */
const SEQ_LOCK_BASE = (0x4e4f524en << 32n).toString();

/** What became of a seq on PostgreSQL. */
export type SeqState = 'committed' | 'in-flight' | 'absent';

const COLUMNS = ['id', 'saga_id', 'timestamp', 'source', 'app', 'category', 'action', 'message', 'metadata'] as const satisfies readonly (keyof Row)[];
const SQLITE_INSERT = `insert into saga_events (${COLUMNS.join(', ')}) values (${COLUMNS.map((c) => `@${c}`).join(', ')}) returning seq`;

export class SagaLog {
  private readonly listeners = new Set<SagaListener>();
  private readonly projectors: { readonly project: SagaProjector; readonly wants: ProjectorFilter }[] = [];
  /**
   * SQLite: events appended outside a transaction go to the driver as one prepared statement, committed with the
   * others of the same moment. Through knex one insert took 0.45-0.5 ms when appends came 20 ms apart, and this way
   * 0.2-0.25 ms; that time is spent before the live stream sends the event (bench/README.md).
   */
  private readonly sqliteCommits?: SqliteGroupCommit;
  private readonly sqliteInsert = preparedPerConnection(SQLITE_INSERT);
  private readonly client: StoreClient;

  /**
   * `redactor` masks configured secrets in every event's message and metadata before it is stored or announced:
   * step failures and progress lines carry text from other systems (git, Docker, Nomad, forges).
   */
  constructor(private readonly deps: { knex: Knex; now?: () => Date; redactor?: EventRedactor }) {
    this.client = storeClientOf(deps.knex);
    if (this.client === 'sqlite') this.sqliteCommits = new SqliteGroupCommit({ knex: deps.knex });
  }

  /**
   * Appends and announces at once; for callers outside a transaction. An event no projector wants (a progress line,
   * most of them) is one autocommitted insert: a transaction around it would cost three round trips through the
   * store instead of one, on the path from a step's output to the live stream.
   */
  async append(event: NewSagaEvent): Promise<SagaEvent> {
    const wanted = this.projectors.some((p) => p.wants(event));
    const [saved] = wanted ? await this.deps.knex.transaction((trx) => this.appendIn(trx, [event])) : await this.insert(this.deps.knex, [event]);
    this.announce([saved!]);
    return saved!;
  }

  /** Registers a projector run within the transaction of every append that holds an event it `wants`. */
  addProjector(projector: SagaProjector, wants: ProjectorFilter = () => true): void {
    this.projectors.push({ project: projector, wants });
  }

  /** Appends within the transaction `trx`; the caller announces after commit. */
  async appendIn(trx: Knex.Transaction, events: readonly NewSagaEvent[]): Promise<SagaEvent[]> {
    const out = await this.insert(trx, events);
    // Each projector sees exactly the events it wants, here as in `append`.
    for (const p of this.projectors) {
      const wanted = out.filter((e) => p.wants(e));
      if (wanted.length > 0) await p.project(trx, wanted);
    }
    return out;
  }

  private async insert(db: Knex | Knex.Transaction, events: readonly NewSagaEvent[]): Promise<SagaEvent[]> {
    const out: SagaEvent[] = [];
    for (const original of events) {
      const e = this.redacted(original);
      const id = randomUUID();
      const timestamp = e.timestamp ?? (this.deps.now?.() ?? new Date()).toISOString();
      const row = {
        id,
        saga_id: e.sagaId,
        timestamp,
        source: e.source,
        app: e.app,
        category: e.category,
        action: e.action,
        message: e.message.slice(0, 8000),
        metadata: JSON.stringify(e.metadata ?? {}),
      };
      const seq = this.client === 'postgres' ? await this.insertLocked(db, row) : await this.insertRow(db, row);
      out.push({ ...e, id, seq: Number(seq), timestamp, metadata: e.metadata ?? {} });
    }
    return out;
  }

  private redacted(e: NewSagaEvent): NewSagaEvent {
    const r = this.deps.redactor;
    if (!r) return e;
    return { ...e, message: r.redact(e.message), ...(e.metadata ? { metadata: r.redactDeep(e.metadata) } : {}) };
  }

  private async insertRow(db: Knex | Knex.Transaction, row: Omit<Row, 'seq'>): Promise<number> {
    if (db === this.deps.knex && this.sqliteCommits) return this.sqliteCommits.run((conn) => (this.sqliteInsert(conn).get(row) as { seq: number }).seq);
    const [inserted] = await db('saga_events').insert(row).returning('seq');
    return Number(typeof inserted === 'object' ? (inserted as { seq: number }).seq : inserted);
  }

  /** Inserts and, in the same statement, takes the seq's lock, held until the transaction (or the statement) ends. */
  private async insertLocked(db: Knex | Knex.Transaction, row: Omit<Row, 'seq'>): Promise<number> {
    const insert = db('saga_events').insert(row).returning('seq').toSQL();
    const res = await db.raw(`with ins as (${insert.sql}) select seq, pg_advisory_xact_lock(${SEQ_LOCK_BASE}::bigint + seq) from ins`, insert.bindings);
    return Number((res as { rows: { seq: number }[] }).rows[0]!.seq);
  }

  /**
   * PostgreSQL only: the state of each seq in `seqs`. The lock is looked at before the row, so a transaction that
   * commits in between is seen as committed; "absent" means rolled back, or (for a few microseconds) allocated
   * by an insert that has not taken its lock yet, so callers give a gap a short grace before believing it.
   */
  async seqStates(seqs: readonly number[]): Promise<Map<number, SeqState>> {
    const knex = this.deps.knex;
    const locks = await knex.raw(`select g::bigint as seq, pg_try_advisory_xact_lock_shared(${SEQ_LOCK_BASE}::bigint + g) as free from unnest(?::bigint[]) g`, [[...seqs]]);
    const rows = await knex('saga_events').whereIn('seq', [...seqs]).pluck('seq');
    const committed = new Set(rows.map(Number));
    const states = new Map<number, SeqState>();
    for (const r of (locks as { rows: { seq: string; free: boolean }[] }).rows) {
      const seq = Number(r.seq);
      states.set(seq, committed.has(seq) ? 'committed' : r.free ? 'absent' : 'in-flight');
    }
    return states;
  }

  announce(events: readonly SagaEvent[]): void {
    if (events.length === 0) return;
    for (const l of this.listeners) l(events);
  }

  subscribe(listener: SagaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first event of `sagaId` with `action`, read within `db` (a projector's transaction sees its own appends). */
  async firstOfSaga(db: Knex | Knex.Transaction, sagaId: string, action: SagaAction): Promise<SagaEvent | undefined> {
    const row = await db<Row>('saga_events').where({ saga_id: sagaId, action }).orderBy('seq').first();
    return row ? fromRow(row) : undefined;
  }

  async forSaga(sagaId: string): Promise<SagaEvent[]> {
    return (await this.deps.knex<Row>('saga_events').where({ saga_id: sagaId }).orderBy('seq')).map(fromRow);
  }

  /** The newest `limit` events (optionally of one app), oldest first. */
  async recent(opts: { app?: string; limit: number }): Promise<SagaEvent[]> {
    const q = this.deps.knex<Row>('saga_events').orderBy('seq', 'desc').limit(opts.limit);
    if (opts.app) q.where({ app: opts.app });
    return (await q).map(fromRow).reverse();
  }

  /** Events after `seq` in order (optionally of one app): what a reconnecting client missed. */
  async since(seq: number, opts: { app?: string; limit: number; upTo?: number }): Promise<SagaEvent[]> {
    const q = this.deps.knex<Row>('saga_events').where('seq', '>', seq).orderBy('seq').limit(opts.limit);
    if (opts.upTo !== undefined) q.where('seq', '<=', opts.upTo);
    if (opts.app) q.where({ app: opts.app });
    return (await q).map(fromRow);
  }

  /** The events with these sequence numbers, in order (what another receiver announced). */
  async bySeqs(seqs: readonly number[]): Promise<SagaEvent[]> {
    return (await this.deps.knex<Row>('saga_events').whereIn('seq', [...seqs]).orderBy('seq')).map(fromRow);
  }

  async lastSeq(): Promise<number> {
    const row = await this.deps.knex('saga_events').max({ m: 'seq' }).first();
    return Number(row?.m ?? 0);
  }
}

function fromRow(r: Row): SagaEvent {
  return {
    id: r.id,
    sagaId: r.saga_id,
    seq: Number(r.seq),
    timestamp: r.timestamp,
    source: r.source,
    app: r.app,
    category: r.category,
    action: r.action as SagaAction,
    message: r.message,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
  };
}
