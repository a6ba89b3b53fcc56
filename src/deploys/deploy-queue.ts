// The deploys table as a queue. Enqueue happens inside the delivery's transaction; claiming picks, per lane, the
// newest queued deploy (older queued ones end as superseded) when nothing in that lane is running. Claims carry a
// lease that the worker renews; a lease that runs out marks the deploy interrupted.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { SagaEvent } from '../events/saga-event.js';
import type { SagaLog } from '../events/saga-log.js';
import type { StepName } from '../pipeline/step.js';
import { fromDeployRow, type DeployKind, type DeployRecord, type DeployRow, type DeployStatus } from './deploy-record.js';

/** What a new deploy needs; the rest of its record is filled in as it runs. */
export type EnqueueInput = Pick<
  DeployRecord,
  'app' | 'kind' | 'ref' | 'commitSha' | 'trigger' | 'deliveryId' | 'forge' | 'repoFullName' | 'cloneUrl' | 'prNumber'
> & {
  /** The saga id, when the caller must name it before the deploy is queued; a new one otherwise. */
  readonly id?: string;
};

export interface Claimed {
  readonly deploy: DeployRecord;
  readonly events: readonly SagaEvent[];
}

export function laneOf(input: { app: string; kind: DeployKind; prNumber: number | null }): string {
  // A rollback changes what runs, as a deploy does: it shares the app's lane (one at a time, newest wins).
  return input.kind === 'preflight' ? `preflight:${input.app}:${input.prNumber ?? 0}` : input.app;
}

export class DeployQueue {
  constructor(private readonly deps: { knex: Knex; sagaLog: SagaLog; isPostgres: boolean; now?: () => Date }) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  /** Queues one deploy in its own transaction and announces it (manual deploys; deliveries use enqueueIn). */
  async enqueue(input: EnqueueInput): Promise<DeployRecord> {
    const queued = await this.deps.knex.transaction((trx) => this.enqueueIn(trx, input));
    this.deps.sagaLog.announce(queued.events);
    return queued.deploy;
  }

  /** Inserts a queued deploy and its deploy.queued event in `trx`; the caller announces the events after commit. */
  async enqueueIn(trx: Knex.Transaction, input: EnqueueInput): Promise<Claimed> {
    const id = input.id ?? randomUUID();
    const [event] = await this.deps.sagaLog.appendIn(trx, [
      {
        sagaId: id,
        source: 'receiver',
        app: input.app,
        category: 'deploy',
        action: 'deploy.queued',
        message: `${input.kind} of ${input.app} queued for ${input.commitSha.slice(0, 12)} (${input.ref})`,
        metadata: { ref: input.ref, commitSha: input.commitSha, trigger: input.trigger, kind: input.kind, prNumber: input.prNumber, forge: input.forge, repoFullName: input.repoFullName },
      },
    ]);
    const row: DeployRow = {
      id,
      app: input.app,
      kind: input.kind,
      lane: laneOf(input),
      queued_seq: event!.seq,
      ref: input.ref,
      commit_sha: input.commitSha,
      trigger: input.trigger,
      delivery_id: input.deliveryId,
      forge: input.forge,
      repo_full_name: input.repoFullName,
      clone_url: input.cloneUrl,
      pr_number: input.prNumber,
      status: 'queued',
      current_step: null,
      error: null,
      image_tag: null,
      lease_owner: null,
      lease_expires_at: null,
      created_at: event!.timestamp,
      started_at: null,
      finished_at: null,
    };
    await trx('deploys').insert(row);
    return { deploy: fromDeployRow(row), events: [event!] };
  }

  /**
   * Claims the next runnable deploy for `owner`, or undefined. On PostgreSQL a per-lane advisory lock makes the
   * one-running-per-lane check hold across receivers; SQLite has a single writer, so the transaction suffices.
   */
  async claimNext(owner: string, leaseMs: number): Promise<Claimed | undefined> {
    const lanes = await this.deps.knex('deploys')
      .where({ status: 'queued' })
      .groupBy('lane')
      .select('lane')
      .min({ first: 'queued_seq' })
      .orderBy('first');
    for (const { lane } of lanes as { lane: string }[]) {
      const claimed = await this.deps.knex.transaction((trx) => this.claimLane(trx, lane, owner, leaseMs));
      if (claimed) {
        this.deps.sagaLog.announce(claimed.events);
        return claimed;
      }
    }
    return undefined;
  }

  private async claimLane(trx: Knex.Transaction, lane: string, owner: string, leaseMs: number): Promise<Claimed | undefined> {
    if (this.deps.isPostgres) {
      const res = await trx.raw('select pg_try_advisory_xact_lock(hashtext(?)) as ok', [`norn:lane:${lane}`]);
      if (!res.rows[0].ok) return undefined;
    }
    const running = await trx('deploys').where({ lane, status: 'running' }).first('id');
    if (running) return undefined;
    const q = trx<DeployRow>('deploys').where({ lane, status: 'queued' }).orderBy('queued_seq', 'desc');
    // Rows another receiver is claiming right now are skipped, not waited for.
    if (this.deps.isPostgres) q.forUpdate().skipLocked();
    const queued = (await q).map(fromDeployRow);
    const [newest, ...older] = queued;
    if (!newest) return undefined;
    const now = this.now();
    const events: SagaEvent[] = [];
    for (const old of older) {
      await trx('deploys').where({ id: old.id, status: 'queued' }).update({ status: 'superseded', finished_at: now, error: `superseded by ${newest.id}` });
      events.push(
        ...(await this.deps.sagaLog.appendIn(trx, [
          {
            sagaId: old.id,
            source: 'scheduler',
            app: old.app,
            category: 'deploy',
            action: 'deploy.superseded',
            message: `superseded by a newer push (${newest.commitSha.slice(0, 12)}, saga ${newest.id})`,
            metadata: { supersededBy: newest.id, commitSha: old.commitSha },
          },
        ])),
      );
    }
    const leaseExpiresAt = new Date(Date.parse(now) + leaseMs).toISOString();
    const updated = await trx('deploys')
      .where({ id: newest.id, status: 'queued' })
      .update({ status: 'running', lease_owner: owner, lease_expires_at: leaseExpiresAt, started_at: now });
    if (updated !== 1) return undefined;
    return {
      deploy: { ...newest, status: 'running', leaseOwner: owner, leaseExpiresAt, startedAt: now },
      events,
    };
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const expires = new Date(Date.parse(this.now()) + leaseMs).toISOString();
    const n = await this.deps.knex('deploys').where({ id, status: 'running', lease_owner: owner }).update({ lease_expires_at: expires });
    return n === 1;
  }

  async setStep(id: string, step: StepName): Promise<void> {
    await this.deps.knex('deploys').where({ id }).update({ current_step: step });
  }

  /** Ends a running deploy with its final event, in one transaction; returns false when it was no longer running. */
  async finish(
    id: string,
    outcome: { status: Extract<DeployStatus, 'succeeded' | 'failed' | 'interrupted'>; error?: string; imageTag?: string },
    event: Parameters<SagaLog['appendIn']>[1][number],
  ): Promise<boolean> {
    const events = await this.deps.knex.transaction(async (trx) => {
      const n = await trx('deploys')
        .where({ id, status: 'running' })
        .update({ status: outcome.status, error: outcome.error ?? null, image_tag: outcome.imageTag ?? null, finished_at: this.now(), lease_owner: null, lease_expires_at: null });
      if (n !== 1) return [];
      return this.deps.sagaLog.appendIn(trx, [event]);
    });
    this.deps.sagaLog.announce(events);
    return events.length > 0;
  }

  /** Running deploys whose lease has run out, or whose owner `isDead` says is gone. */
  async abandoned(isDead: (owner: string) => boolean): Promise<DeployRecord[]> {
    const rows = (await this.deps.knex<DeployRow>('deploys').where({ status: 'running' })).map(fromDeployRow);
    const now = this.now();
    return rows.filter((d) => !d.leaseOwner || isDead(d.leaseOwner) || (d.leaseExpiresAt ?? '') < now);
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    const row = await this.deps.knex<DeployRow>('deploys').where({ id }).first();
    return row ? fromDeployRow(row) : undefined;
  }

  async list(opts: { app?: string; status?: DeployStatus; deliveryId?: string; limit: number }): Promise<DeployRecord[]> {
    const q = this.deps.knex<DeployRow>('deploys').orderBy('queued_seq', 'desc').limit(opts.limit);
    if (opts.app) q.where({ app: opts.app });
    if (opts.status) q.where({ status: opts.status });
    if (opts.deliveryId) q.where({ delivery_id: opts.deliveryId });
    return (await q).map(fromDeployRow);
  }

  /** True while a deploy of `app` runs (a restore must wait for it). */
  async isRunning(app: string): Promise<boolean> {
    return (await this.list({ app, status: 'running', limit: 1 })).length > 0;
  }

  /** The image of the app's newest successful deploy: what runs now, and what a rollback goes back to. */
  async lastSucceededImage(app: string): Promise<string | undefined> {
    // A preflight (pull request or manual) succeeds too, but its image was built for checking, never run nor pushed;
    // a rollback's image is what runs after it.
    const row = await this.deps.knex<DeployRow>('deploys').where({ app, status: 'succeeded' }).whereNot({ kind: 'preflight' }).orderBy('queued_seq', 'desc').first('image_tag');
    return row?.image_tag ?? undefined;
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = (await this.deps.knex('deploys').groupBy('status').select('status').count({ n: '*' })) as { status: string; n: number | string }[];
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
