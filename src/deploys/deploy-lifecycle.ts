// The one writer of a deploy's life: its `deploys` row and its deploy.* and step.* saga events. Each transition
// (queued, claimed, superseded, step started or ended, finished, interrupted) changes the row and appends its events
// in one transaction, and the events are announced (live feed, status outbox wake-up) only after that commit.
//
// The deploys table is also the queue: claiming picks, per lane, the newest queued deploy (older queued ones end
// as superseded) when nothing in that lane is running. Claims carry a lease the worker renews; the scheduler ends
// as interrupted a deploy whose lease ran out or whose process died.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { NewSagaEvent, SagaEvent } from '../events/saga-event.js';
import type { SagaLog } from '../events/saga-log.js';
import type { PipelineOutcome, PipelineReporter } from '../pipeline/run-pipeline.js';
import { STEP_NAMES, type StepName } from '../pipeline/step.js';
import { fromDeployRow, type DeployKind, type DeployRecord, type DeployRow } from './deploy-record.js';
import {
  failedUnstartedEvent,
  finishedEvent,
  interruptedEvent,
  queuedEvent,
  startedEvents,
  stepEndedEvent,
  stepProgressEvent,
  stepStartedEvent,
  supersededEvent,
} from './lifecycle-events.js';

/** What a new deploy needs; the rest of its record is filled in as it runs. */
export type NewDeploy = Pick<
  DeployRecord,
  'app' | 'kind' | 'ref' | 'commitSha' | 'trigger' | 'deliveryId' | 'forge' | 'repoFullName' | 'cloneUrl' | 'prNumber'
> & {
  /** The saga id, when the caller must name it before the deploy is queued; a new one otherwise. */
  readonly id?: string;
};

/** A deploy queued inside the caller's transaction, with the events to announce once the caller has committed. */
export interface QueuedDeploy {
  readonly deploy: DeployRecord;
  readonly events: readonly SagaEvent[];
}

export function laneOf(input: { app: string; kind: DeployKind; prNumber: number | null }): string {
  // A rollback changes what runs, as a deploy does: it shares the app's lane (one at a time, newest wins).
  return input.kind === 'preflight' ? `preflight:${input.app}:${input.prNumber ?? 0}` : input.app;
}

type Ended = 'succeeded' | 'failed' | 'interrupted';

export class DeployLifecycle {
  constructor(private readonly deps: { knex: Knex; sagaLog: SagaLog; isPostgres: boolean; log: Logger; now?: () => Date }) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  /** Runs `change` in one transaction and announces the events it appended once that has committed. */
  private async commit(change: (trx: Knex.Transaction) => Promise<readonly SagaEvent[]>): Promise<readonly SagaEvent[]> {
    const events = await this.deps.knex.transaction(change);
    this.deps.sagaLog.announce(events);
    return events;
  }

  /** Queues one deploy in its own transaction and announces it (manual deploys; deliveries use queueIn). */
  async queue(input: NewDeploy): Promise<DeployRecord> {
    let deploy: DeployRecord | undefined;
    await this.commit(async (trx) => {
      const queued = await this.queueIn(trx, input);
      deploy = queued.deploy;
      return queued.events;
    });
    return deploy!;
  }

  /**
   * Inserts a queued deploy and its deploy.queued event in `trx` (a delivery's transaction, so a delivery and its
   * deploys commit together); the caller announces the returned events after commit.
   */
  async queueIn(trx: Knex.Transaction, input: NewDeploy): Promise<QueuedDeploy> {
    const id = input.id ?? randomUUID();
    const [event] = await this.deps.sagaLog.appendIn(trx, [queuedEvent({ ...input, id })]);
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
   * Claims the next runnable deploy for `owner`, superseding the older queued ones of its lane, or undefined. On
   * PostgreSQL a per-lane advisory lock makes the one-running-per-lane check hold across receivers; SQLite has a
   * single writer, so the transaction suffices.
   */
  async claimNext(owner: string, leaseMs: number): Promise<DeployRecord | undefined> {
    const lanes = await this.deps.knex('deploys')
      .where({ status: 'queued' })
      .groupBy('lane')
      .select('lane')
      .min({ first: 'queued_seq' })
      .orderBy('first');
    for (const { lane } of lanes as { lane: string }[]) {
      let claimed: DeployRecord | undefined;
      await this.commit(async (trx) => {
        const result = await this.claimLane(trx, lane, owner, leaseMs);
        claimed = result.deploy;
        return result.events;
      });
      if (claimed) return claimed;
    }
    return undefined;
  }

  private async claimLane(trx: Knex.Transaction, lane: string, owner: string, leaseMs: number): Promise<{ deploy?: DeployRecord; events: SagaEvent[] }> {
    const none = { events: [] };
    if (this.deps.isPostgres) {
      const res = await trx.raw('select pg_try_advisory_xact_lock(hashtext(?)) as ok', [`norn:lane:${lane}`]);
      if (!res.rows[0].ok) return none;
    }
    const running = await trx('deploys').where({ lane, status: 'running' }).first('id');
    if (running) return none;
    const q = trx<DeployRow>('deploys').where({ lane, status: 'queued' }).orderBy('queued_seq', 'desc');
    // Rows another receiver is claiming right now are skipped, not waited for.
    if (this.deps.isPostgres) q.forUpdate().skipLocked();
    const [newest, ...older] = (await q).map(fromDeployRow);
    if (!newest) return none;
    const now = this.now();
    const events: SagaEvent[] = [];
    for (const old of older) {
      await trx('deploys').where({ id: old.id, status: 'queued' }).update({ status: 'superseded', finished_at: now, error: `superseded by ${newest.id}` });
      events.push(...(await this.deps.sagaLog.appendIn(trx, [supersededEvent(old, newest)])));
    }
    const leaseExpiresAt = new Date(Date.parse(now) + leaseMs).toISOString();
    const updated = await trx('deploys')
      .where({ id: newest.id, status: 'queued' })
      .update({ status: 'running', lease_owner: owner, lease_expires_at: leaseExpiresAt, started_at: now });
    if (updated !== 1) return { events };
    return { deploy: { ...newest, status: 'running', leaseOwner: owner, leaseExpiresAt, startedAt: now }, events };
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const expires = new Date(Date.parse(this.now()) + leaseMs).toISOString();
    const n = await this.deps.knex('deploys').where({ id, status: 'running', lease_owner: owner }).update({ lease_expires_at: expires });
    return n === 1;
  }

  /** A claimed deploy's pipeline begins: deploy.start, and the spec's warnings when it has any. */
  async start(deploy: DeployRecord, specWarnings: readonly { readonly path: string; readonly reason: string }[] = []): Promise<void> {
    await this.commit((trx) => this.deps.sagaLog.appendIn(trx, startedEvents(deploy, specWarnings)));
  }

  /**
   * Where a started deploy's pipeline reports: each step's start (with the deploy's current step, in one
   * transaction), progress and end, recorded in the order reported.
   */
  /** What the pipeline of `deploy` reports through; `steps` are the ones its pipeline runs, in order. */
  reporter(deploy: DeployRecord, steps: readonly StepName[] = STEP_NAMES): PipelineReporter {
    const recorder = new RunRecorder(this.deps.log.child({ sagaId: deploy.id }));
    // One event, in a transaction only when a projector has to write with it (SagaLog.append).
    const append = (event: NewSagaEvent) => () => this.deps.sagaLog.append(event);
    return {
      stepStarted: (step) =>
        recorder.recordAndWait(() =>
          this.commit(async (trx) => {
            await trx('deploys').where({ id: deploy.id }).update({ current_step: step });
            return this.deps.sagaLog.appendIn(trx, [stepStartedEvent(deploy, step, steps)]);
          }),
        ),
      progress: (step, message, progress) => recorder.record(append(stepProgressEvent(deploy, step, message, progress))),
      stepEnded: (step, end) => recorder.record(append(stepEndedEvent(deploy, step, end, steps))),
      settled: () => recorder.settled(),
    };
  }

  /** Ends a running deploy with what its pipeline came to; false when it was no longer running. */
  finish(deploy: DeployRecord, outcome: PipelineOutcome): Promise<boolean> {
    const { event, record } = finishedEvent(deploy, outcome);
    return this.end(deploy.id, record, event);
  }

  /** Ends a claimed deploy that could not start (its app is gone from the apps dir, or its spec is invalid). */
  failUnstarted(deploy: DeployRecord, error: string): Promise<boolean> {
    return this.end(deploy.id, { status: 'failed', error, imageTag: null }, failedUnstartedEvent(deploy, error));
  }

  /** Ends as interrupted a running deploy whose process stopped (crash recovery); false when it had ended. */
  interrupt(deploy: DeployRecord): Promise<boolean> {
    return this.end(deploy.id, { status: 'interrupted', error: 'the process running it stopped', imageTag: null }, interruptedEvent(deploy));
  }

  private async end(id: string, record: { status: Ended; error: string | null; imageTag: string | null }, event: NewSagaEvent): Promise<boolean> {
    const events = await this.commit(async (trx) => {
      const n = await trx('deploys')
        .where({ id, status: 'running' })
        .update({ status: record.status, error: record.error, image_tag: record.imageTag, finished_at: this.now(), lease_owner: null, lease_expires_at: null });
      if (n !== 1) return [];
      return this.deps.sagaLog.appendIn(trx, [event]);
    });
    return events.length > 0;
  }
}

/**
 * Keeps one run's records in the order they were reported without making the pipeline wait for each: every write
 * waits for the one before. A record that cannot be written is logged and the run goes on; a step's start is
 * awaited, and its failure is the caller's.
 */
class RunRecorder {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly log: Logger) {}

  record(write: () => Promise<unknown>): void {
    this.chain = this.chain.then(write).catch((err: unknown) => this.log.error({ err }, 'could not record a saga event'));
  }

  recordAndWait(write: () => Promise<unknown>): Promise<void> {
    const written = this.chain.then(write);
    this.chain = written.catch((err: unknown) => this.log.error({ err }, 'could not record a step start'));
    return written.then(() => undefined);
  }

  async settled(): Promise<void> {
    await this.chain;
  }
}
