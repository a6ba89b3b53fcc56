// One pipeline run (= one saga) as stored in `deploys`.
import type { DeployKind, DeployTrigger } from '../events/deploy-queued.js';
import type { StepName } from '../pipeline/step.js';
import type { ForgeName } from '../webhooks/forge-adapter.js';

// Kind and trigger are published in the deploy.queued event; they are defined with it.
export type { DeployKind, DeployTrigger };

export type DeployStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'superseded' | 'interrupted';

export const ENDED_STATUSES: readonly DeployStatus[] = ['succeeded', 'failed', 'superseded', 'interrupted'];

export interface DeployRecord {
  readonly id: string;
  readonly app: string;
  readonly kind: DeployKind;
  readonly ref: string;
  readonly commitSha: string;
  readonly trigger: DeployTrigger;
  readonly deliveryId: string | null;
  readonly forge: ForgeName | null;
  readonly repoFullName: string | null;
  readonly cloneUrl: string;
  readonly prNumber: number | null;
  readonly status: DeployStatus;
  readonly currentStep: StepName | null;
  readonly error: string | null;
  readonly imageTag: string | null;
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface DeployRow {
  id: string;
  app: string;
  kind: string;
  lane: string;
  queued_seq: number;
  ref: string;
  commit_sha: string;
  trigger: string;
  delivery_id: string | null;
  forge: string | null;
  repo_full_name: string | null;
  clone_url: string;
  pr_number: number | null;
  status: string;
  current_step: string | null;
  error: string | null;
  image_tag: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export function fromDeployRow(r: DeployRow): DeployRecord {
  return {
    id: r.id,
    app: r.app,
    kind: r.kind as DeployKind,
    ref: r.ref,
    commitSha: r.commit_sha,
    trigger: r.trigger as DeployTrigger,
    deliveryId: r.delivery_id,
    forge: r.forge as ForgeName | null,
    repoFullName: r.repo_full_name,
    cloneUrl: r.clone_url,
    prNumber: r.pr_number === null ? null : Number(r.pr_number),
    status: r.status as DeployStatus,
    currentStep: r.current_step as StepName | null,
    error: r.error,
    imageTag: r.image_tag,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** The public view (API, CLI): no lease internals. */
export function deployView(d: DeployRecord): Record<string, unknown> {
  return {
    sagaId: d.id,
    app: d.app,
    kind: d.kind,
    ref: d.ref,
    commitSha: d.commitSha,
    trigger: d.trigger,
    deliveryId: d.deliveryId,
    status: d.status,
    currentStep: d.currentStep,
    error: d.error,
    imageTag: d.imageTag,
    prNumber: d.prNumber,
    createdAt: d.createdAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
  };
}
