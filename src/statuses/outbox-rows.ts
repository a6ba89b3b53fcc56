// The status_outbox table's rows and the queries the projector, the deliverer and reconciliation share.
import type { Knex } from 'knex';
import type { StatusState } from '../integrations/forge-status/status-client.js';

export type OutboxStatus = 'queued' | 'delivered' | 'skipped' | 'dropped';

export interface OutboxRow {
  id: number;
  saga_id: string;
  app: string;
  forge: string | null;
  repo_full_name: string | null;
  commit_sha: string;
  context: string;
  state: StatusState;
  description: string;
  target_url: string;
  event_seq: number | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** A status goes to one commit of one repo on one forge under one context; order holds within this key. */
export interface GroupKey {
  readonly forge: string;
  readonly repo_full_name: string;
  readonly commit_sha: string;
  readonly context: string;
}

export type NewOutboxRow = Pick<OutboxRow, 'saga_id' | 'app' | 'forge' | 'repo_full_name' | 'commit_sha' | 'context' | 'state' | 'description' | 'target_url' | 'event_seq'>;

/** Longest description kept; clients trim further to their forge's limit. */
const MAX_STORED_DESCRIPTION = 1000;

export async function insertRow(db: Knex | Knex.Transaction, row: NewOutboxRow, now: string): Promise<void> {
  await db('status_outbox').insert({
    ...row,
    description: row.description.slice(0, MAX_STORED_DESCRIPTION),
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    last_error: null,
    created_at: now,
    finished_at: null,
  });
}

export function groupOf(row: Pick<OutboxRow, 'forge' | 'repo_full_name' | 'commit_sha' | 'context'>): GroupKey {
  return { forge: row.forge!, repo_full_name: row.repo_full_name!, commit_sha: row.commit_sha, context: row.context };
}

/** The newest row of a group (optionally only those with one status). */
export async function lastInGroup(db: Knex | Knex.Transaction, key: GroupKey, status?: OutboxStatus): Promise<OutboxRow | undefined> {
  const q = db<OutboxRow>('status_outbox').where(key).orderBy('id', 'desc').first();
  if (status) q.where({ status });
  return normalize(await q);
}

export function sameStatus(a: Pick<OutboxRow, 'state' | 'description' | 'target_url'>, b: Pick<OutboxRow, 'state' | 'description' | 'target_url'>): boolean {
  return a.state === b.state && a.description === b.description && a.target_url === b.target_url;
}

/** SQLite and PostgreSQL return bigint/int columns differently; callers see numbers. */
export function normalize(row: OutboxRow | undefined): OutboxRow | undefined {
  if (!row) return undefined;
  return { ...row, id: Number(row.id), attempts: Number(row.attempts), event_seq: row.event_seq === null ? null : Number(row.event_seq) };
}
