// Which receiver starts a scheduled run, decided in the store: every receiver sharing it (several behind one
// address on one Docker host) sees the same minute come due, and only the one whose claim is inserted first runs it.
// A claim stays open until its run ends, so a run still going on one receiver is not doubled by another at the next
// due minute. A receiver that dies mid-run never closes its claim: past the run's deadline the claim is stale and no
// longer holds the schedule back.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';

/** `claimed`: this receiver runs it; `taken`: another claimed the same minute; `running`: an earlier run is open. */
export type ClaimOutcome = { readonly outcome: 'claimed' } | { readonly outcome: 'taken'; readonly by: string } | { readonly outcome: 'running'; readonly by: string; readonly dueAt: string };

interface ClaimRow {
  app: string;
  process: string;
  due_at: string;
  receiver: string;
  claim_id: string;
  claimed_at: string;
  ended_at: string | null;
}

export interface ScheduleClaimsConfig {
  /** An open claim older than this is stale: no run outlives its deadline (the run timeout), so its receiver died. */
  readonly staleAfterMs: number;
  /** Claims of minutes older than this are deleted as new minutes are claimed. */
  readonly keepMs: number;
  /** Names this receiver in its claims; host and process id when not given. */
  readonly receiver?: string;
}

export class ScheduleClaims {
  private readonly receiver: string;

  constructor(
    private readonly config: ScheduleClaimsConfig,
    private readonly deps: { knex: Knex; now?(): Date },
  ) {
    this.receiver = (config.receiver ?? `${os.hostname()}:${process.pid}`).slice(0, 200);
  }

  /** Claims the run of `process` of `app` due at `dueAt` (a minute), unless another receiver has it or an earlier run is open. */
  async claim(app: string, process: string, dueAt: Date): Promise<ClaimOutcome> {
    const now = this.now();
    const due = dueAt.toISOString();
    const staleBefore = new Date(now.getTime() - this.config.staleAfterMs).toISOString();
    const open = await this.deps.knex<ClaimRow>('schedule_claims')
      .where({ app, process })
      .whereNull('ended_at')
      .whereNot('due_at', due)
      .where('claimed_at', '>=', staleBefore)
      .first();
    if (open) return { outcome: 'running', by: open.receiver, dueAt: open.due_at };
    // The primary key (app, process, due_at) decides between receivers claiming the same minute at once.
    const claimId = randomUUID();
    await this.deps.knex('schedule_claims')
      .insert({ app, process, due_at: due, receiver: this.receiver, claim_id: claimId, claimed_at: now.toISOString(), ended_at: null })
      .onConflict(['app', 'process', 'due_at'])
      .ignore();
    const row = await this.deps.knex<ClaimRow>('schedule_claims').where({ app, process, due_at: due }).first();
    return row?.claim_id === claimId ? { outcome: 'claimed' } : { outcome: 'taken', by: row?.receiver ?? 'another receiver' };
  }

  /** Closes this receiver's claim once its run ended, whatever its outcome. */
  async end(app: string, process: string, dueAt: Date): Promise<void> {
    await this.deps.knex('schedule_claims').where({ app, process, due_at: dueAt.toISOString(), receiver: this.receiver }).update({ ended_at: this.now().toISOString() });
  }

  /** Deletes claims of minutes older than `keepMs`; returns how many. */
  async prune(): Promise<number> {
    const before = new Date(this.now().getTime() - this.config.keepMs).toISOString();
    return this.deps.knex('schedule_claims').where('due_at', '<', before).delete();
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
