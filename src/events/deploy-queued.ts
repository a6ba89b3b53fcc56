// What a `deploy.queued` event says about its deploy. It is the first event of every deploy's saga and names where
// the deploy came from, so readers downstream of the log (commit statuses, the live feed) learn it from the event
// itself and never from the `deploys` table.
import type { SagaEvent } from './saga-event.js';

/** `rollback`: a redeploy of an earlier deploy's image, without a build (deploys/rollback-plan.ts). */
export type DeployKind = 'deploy' | 'preflight' | 'rollback';

/** Whether a run of this kind changes what runs: a deploy and a rollback do; a preflight builds and checks only. */
export function changesWhatRuns(kind: DeployKind): boolean {
  return kind !== 'preflight';
}
export type DeployTrigger = 'push' | 'manual' | 'redeliver' | 'pull_request';

export interface DeployQueuedMetadata {
  readonly ref: string;
  readonly commitSha: string;
  readonly trigger: DeployTrigger;
  readonly kind: DeployKind;
  readonly prNumber: number | null;
  /** The forge the push came from; null for manual deploys and deploys of a local directory. */
  readonly forge: string | null;
  /** "owner/name" on that forge (GitLab: the project's full path); null when not known. */
  readonly repoFullName: string | null;
}

/** The metadata of a deploy.queued event, checked field by field (events come back from the store as JSON). */
export function deployQueuedMetadata(e: Pick<SagaEvent, 'action' | 'metadata'>): DeployQueuedMetadata | undefined {
  if (e.action !== 'deploy.queued') return undefined;
  const m = e.metadata;
  if (typeof m.commitSha !== 'string' || typeof m.ref !== 'string') return undefined;
  return {
    ref: m.ref,
    commitSha: m.commitSha,
    trigger: isTrigger(m.trigger) ? m.trigger : 'push',
    kind: m.kind === 'preflight' || m.kind === 'rollback' ? m.kind : 'deploy',
    prNumber: typeof m.prNumber === 'number' ? m.prNumber : null,
    forge: typeof m.forge === 'string' ? m.forge : null,
    repoFullName: typeof m.repoFullName === 'string' ? m.repoFullName : null,
  };
}

function isTrigger(value: unknown): value is DeployTrigger {
  return value === 'push' || value === 'manual' || value === 'redeliver' || value === 'pull_request';
}
