// Delivers the status outbox to the forges. Order holds per (forge, repo, commit, context): only the oldest
// queued row of each is eligible, and a failed attempt holds back the rows behind it. Policy:
// - A pending/running row with a newer queued row behind it is skipped, never sent: the forge shows only the latest
//   state of a context, so after an outage the backlog collapses to what is current. Final states are always sent.
// - A row identical (state, description, link) to the last delivered one of its context is skipped.
// - 5xx, 408, network errors and rate limits are retried with exponential backoff, or after the forge's own
//   Retry-After / rate-limit reset; a rate limit pauses the whole forge (the token's budget is spent).
// - Refusals retrying cannot fix (401, 403 without a rate limit, 404, 422) drop the row; the first drop of a saga's
//   context is recorded as a `status.failed` saga event. So is giving up on a row older than `giveUpAfterMs`.
// - Every delivered status is recorded as a `status.reported` saga event. status.* events map to no status, so
//   these appends never enqueue anything.
// All of it lives in the database, so a restart continues where the last process stopped; a row being sent is
// claimed by moving its next attempt ahead, so a second receiver on the same PostgreSQL does not send it too.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { SagaLog } from '../events/saga-log.js';
import { errorMessage } from '../errors.js';
import type { SendResult, StatusClient } from '../integrations/forge-status/status-client.js';
import { isFinal, trimDescription } from './commit-status.js';
import { groupOf, lastInGroup, normalize, type OutboxRow } from './outbox-rows.js';
import { dropUnaddressed, reconcileStuckPending } from './outbox-maintenance.js';
import { isStatusAction } from './status-mapping.js';

export interface StatusOutboxConfig {
  readonly pollIntervalMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly giveUpAfterMs: number;
  readonly requestTimeoutMs: number;
}

export interface StatusOutboxDeps {
  readonly knex: Knex;
  readonly sagaLog: SagaLog;
  readonly log: Logger;
  /** One client per forge name with a token; rows for other forges are skipped. */
  readonly clients: Readonly<Record<string, StatusClient | undefined>>;
  readonly now?: () => Date;
  readonly random?: () => number;
}

/** A forge's hint beyond this is not believed (GitHub's primary limit resets within the hour). */
const MAX_HINT_MS = 3600_000;
const HEADS_PER_PASS = 500;

export class StatusOutbox {
  private timer?: NodeJS.Timeout;
  private passing = false;
  private wanted = false;
  private stopped = true;
  private current: Promise<void> = Promise.resolve();
  private abort = new AbortController();
  private unsubscribe?: () => void;
  private readonly pausedUntil = new Map<string, number>();

  constructor(
    private readonly config: StatusOutboxConfig,
    private readonly deps: StatusOutboxDeps,
  ) {}

  /** Enqueues final statuses for stuck contexts, then delivers whenever statuses are written or come due. */
  async start(): Promise<void> {
    this.stopped = false;
    this.abort = new AbortController();
    await dropUnaddressed(this.deps.knex);
    const reconciled = await reconcileStuckPending(this.deps.knex, this.deps.sagaLog, this.deps.clients, this.config.giveUpAfterMs, this.nowIso());
    if (reconciled > 0) this.deps.log.info({ reconciled }, 'enqueued final commit statuses for deploys that ended while their status was pending');
    this.unsubscribe = this.deps.sagaLog.subscribe((events) => {
      if (events.some((e) => isStatusAction(e.action))) this.wake();
    });
    this.wake();
  }

  /** Stops delivering; a request in flight is aborted and its row released for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.abort.abort(new Error('the status outbox is stopping'));
    await this.current;
  }

  /** Asks for a delivery pass soon. */
  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.wanted = true;
      return;
    }
    clearTimeout(this.timer);
    this.passing = true;
    this.current = this.pass()
      .catch((err) => {
        this.deps.log.error({ err: errorMessage(err) }, 'status delivery pass failed');
        return false;
      })
      .then((progressed) => this.afterPass(progressed));
  }

  /** Statuses not yet delivered (the metrics gauge). */
  async backlog(): Promise<number> {
    const row = await this.deps.knex('status_outbox').where({ status: 'queued' }).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /** Resolves once nothing is queued (tests and graceful drains). */
  async idle(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await this.deps.knex('status_outbox').where({ status: 'queued' }).first('id')) {
      if (Date.now() > deadline) throw new Error(`status outbox not idle after ${timeoutMs}ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async afterPass(progressed: boolean): Promise<void> {
    this.passing = false;
    if (this.stopped) return;
    if (progressed || this.wanted) {
      this.wanted = false;
      this.wake();
      return;
    }
    const next = await this.nextDueInMs().catch(() => this.config.pollIntervalMs);
    if (this.stopped || this.passing) return;
    this.timer = setTimeout(() => this.wake(), Math.max(5, Math.min(this.config.pollIntervalMs, next)));
    this.timer.unref();
  }

  private async pass(): Promise<boolean> {
    const heads = await this.heads();
    const lanes = new Map<string, OutboxRow[]>();
    for (const h of heads) lanes.set(h.forge!, [...(lanes.get(h.forge!) ?? []), h]);
    // Forges are independent: a slow or rate-limited one does not hold up the others.
    const results = await Promise.all([...lanes.values()].map((rows) => this.deliverLane(rows)));
    return results.some(Boolean);
  }

  private async deliverLane(rows: readonly OutboxRow[]): Promise<boolean> {
    let progressed = false;
    for (const row of rows) {
      if (this.stopped) break;
      if (await this.deliverHead(row)) progressed = true;
    }
    return progressed;
  }

  /** The oldest queued row of every (forge, repo, commit, context). */
  private async heads(): Promise<OutboxRow[]> {
    const { knex } = this.deps;
    const oldest = knex('status_outbox').min('id').where({ status: 'queued' }).whereNotNull('forge').groupBy('forge', 'repo_full_name', 'commit_sha', 'context');
    const rows = await knex<OutboxRow>('status_outbox').whereIn('id', oldest).orderBy('id').limit(HEADS_PER_PASS);
    return rows.map((r) => normalize(r)!);
  }

  /** Tries one head row; true when the row left the queue (delivered, skipped or dropped). */
  private async deliverHead(row: OutboxRow): Promise<boolean> {
    const { knex } = this.deps;
    const key = groupOf(row);
    if (!isFinal(row.state) && (await knex('status_outbox').where(key).where({ status: 'queued' }).where('id', '>', row.id).first('id'))) {
      return this.skip(row, 'replaced by a newer status before it was sent');
    }
    const now = this.now();
    if (row.next_attempt_at > now.toISOString() || (this.pausedUntil.get(row.forge!) ?? 0) > now.getTime()) return false;
    if (now.getTime() - Date.parse(row.created_at) > this.config.giveUpAfterMs) {
      return this.drop(row, `gave up after ${row.attempts} attempts${row.last_error ? `; last: ${row.last_error}` : ''}`);
    }
    const client = this.deps.clients[row.forge!];
    if (!client) return this.skip(row, `no ${row.forge} token is configured`);
    const description = trimDescription(row.description, client.maxDescriptionLength);
    const last = await lastInGroup(knex, key, 'delivered');
    if (last && last.state === row.state && last.target_url === row.target_url && trimDescription(last.description, client.maxDescriptionLength) === description) {
      return this.skip(row, 'identical to the last delivered status');
    }
    if (!(await this.claim(row))) return false;
    const status = { state: row.state, description, context: row.context, targetUrl: row.target_url };
    const result = await client.send({ repoFullName: row.repo_full_name!, sha: row.commit_sha }, status, this.abort.signal);
    if (this.abort.signal.aborted && result.kind !== 'delivered') {
      await knex('status_outbox').where({ id: row.id, status: 'queued' }).update({ next_attempt_at: this.nowIso() });
      return false;
    }
    return this.record(row, description, result);
  }

  private async record(row: OutboxRow, description: string, result: SendResult): Promise<boolean> {
    const attempts = row.attempts + 1;
    const log = this.deps.log.child({ sagaId: row.saga_id, forge: row.forge, repo: row.repo_full_name, context: row.context, outboxId: row.id });
    if (result.kind === 'delivered') {
      const events = await this.deps.knex.transaction(async (trx) => {
        const n = await trx('status_outbox').where({ id: row.id, status: 'queued' }).update({ status: 'delivered', attempts, last_error: null, finished_at: this.nowIso() });
        if (n !== 1) return [];
        return this.deps.sagaLog.appendIn(trx, [
          {
            sagaId: row.saga_id,
            app: row.app,
            source: 'status-outbox',
            category: 'status',
            action: 'status.reported',
            message: `${row.state} reported to ${row.forge} as ${row.context} on ${row.commit_sha.slice(0, 12)}: ${description}`,
            metadata: { forge: row.forge, repo: row.repo_full_name, commitSha: row.commit_sha, context: row.context, state: row.state, description, targetUrl: row.target_url, attempts },
          },
        ]);
      });
      this.deps.sagaLog.announce(events);
      log.debug({ state: row.state, attempts }, 'commit status delivered');
      return true;
    }
    if (result.kind === 'permanent') return this.drop({ ...row, attempts }, result.reason);
    const backoff = this.backoffMs(attempts);
    const delay = result.retryAfterMs === undefined ? backoff : Math.min(Math.max(result.retryAfterMs, 0), MAX_HINT_MS);
    const nowMs = this.now().getTime();
    if (result.scope === 'forge') this.pausedUntil.set(row.forge!, nowMs + delay);
    await this.deps.knex('status_outbox')
      .where({ id: row.id, status: 'queued' })
      .update({ attempts, last_error: result.reason, next_attempt_at: new Date(nowMs + delay).toISOString() });
    log.warn({ attempts, retryInMs: delay, reason: result.reason }, 'commit status not delivered; will retry');
    return false;
  }

  /** Drops a row the forge will not take; the first drop of a saga's context becomes a status.failed event. */
  private async drop(row: OutboxRow, reason: string): Promise<boolean> {
    const events = await this.deps.knex.transaction(async (trx) => {
      const n = await trx('status_outbox').where({ id: row.id, status: 'queued' }).update({ status: 'dropped', attempts: row.attempts, last_error: reason, finished_at: this.nowIso() });
      if (n !== 1) return [];
      const earlier = await trx('status_outbox').where({ saga_id: row.saga_id, context: row.context, status: 'dropped' }).whereNot({ id: row.id }).first('id');
      if (earlier) return [];
      return this.deps.sagaLog.appendIn(trx, [
        {
          sagaId: row.saga_id,
          app: row.app,
          source: 'status-outbox',
          category: 'status',
          action: 'status.failed',
          message: `${row.forge} did not take the ${row.context} status for ${row.commit_sha.slice(0, 12)}: ${reason}`,
          metadata: { forge: row.forge, repo: row.repo_full_name, commitSha: row.commit_sha, context: row.context, state: row.state, reason, attempts: row.attempts },
        },
      ]);
    });
    this.deps.sagaLog.announce(events);
    this.deps.log.warn({ sagaId: row.saga_id, forge: row.forge, repo: row.repo_full_name, context: row.context, reason }, 'commit status dropped');
    return true;
  }

  /** Takes a row out of the queue unsent; `last_error` says why. */
  private async skip(row: OutboxRow, reason: string): Promise<boolean> {
    await this.deps.knex('status_outbox').where({ id: row.id, status: 'queued' }).update({ status: 'skipped', last_error: reason, finished_at: this.nowIso() });
    return true;
  }

  /** Moves the row's next attempt ahead by more than a request can take; fails when another worker did first. */
  private async claim(row: OutboxRow): Promise<boolean> {
    const until = new Date(this.now().getTime() + this.config.requestTimeoutMs * 2 + 5000).toISOString();
    const n = await this.deps.knex('status_outbox').where({ id: row.id, status: 'queued', next_attempt_at: row.next_attempt_at }).update({ next_attempt_at: until });
    return n === 1;
  }

  /** Exponential with equal jitter: half the delay fixed, half random, so retries of many rows spread out. */
  private backoffMs(attempts: number): number {
    const full = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    return full / 2 + ((this.deps.random ?? Math.random)() * full) / 2;
  }

  /** When the earliest head comes due (rows behind a head wait for it, whatever their own time). */
  private async nextDueInMs(): Promise<number> {
    const dues = (await this.heads()).map((h) => Math.max(Date.parse(h.next_attempt_at), this.pausedUntil.get(h.forge!) ?? 0));
    return dues.length === 0 ? this.config.pollIntervalMs : Math.min(...dues) - this.now().getTime();
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private nowIso(): string {
    return this.now().toISOString();
  }
}
