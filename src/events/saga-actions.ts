// Every action a saga event can carry, in one place: the feed, the CLI, the dashboard, metrics and commit statuses
// branch on these strings, so a new one is added here first and the compiler finds every reader that must know it.
// The names are published (DESIGN.md "Events"): renaming one breaks clients.

/** A deploy's own life, written only by the deploy lifecycle (deploys/deploy-lifecycle.ts). */
export const DEPLOY_ACTIONS = ['deploy.queued', 'deploy.start', 'deploy.complete', 'deploy.failed', 'deploy.superseded', 'deploy.interrupted'] as const;
export type DeployAction = (typeof DEPLOY_ACTIONS)[number];

/** How a deploy ended; each is the last event of its saga. */
export type DeployEndAction = Extract<DeployAction, 'deploy.complete' | 'deploy.failed' | 'deploy.superseded' | 'deploy.interrupted'>;

/** A step's transitions, also written only by the deploy lifecycle. */
export type StepTransitionAction = 'step.start' | 'step.complete' | 'step.failed' | 'step.skipped';

/**
 * What a step may say while it runs (its `report`): a plain progress line is `step.progress`; the others mark a
 * fact a reader looks for (a registration, an allocation change, a snapshot, a rollback, the Docker gate passing).
 */
export type StepProgressAction =
  | 'step.progress'
  | 'deploy.rollback'
  | 'alloc.progress'
  | 'nomad.submitted'
  | 'nomad.warning'
  | 'nomad.planned'
  | 'runtime.started'
  | 'runtime.instance'
  | 'runtime.healthy'
  | 'runtime.discarded'
  | 'runtime.retired'
  | 'runtime.planned'
  | 'snapshot.created'
  | 'snapshot.deleted'
  | 'snapshot.retention_failed'
  | 'snapshot.restored'
  | 'migration.applied'
  | 'migration.command'
  | 'canary.placed'
  | 'canary.waiting'
  | 'canary.promoted'
  | 'canary.failed'
  | 'canary.retry'
  | 'canary.window-capped'
  | 'cloudflared.target'
  | 'cloudflared.not-routed'
  | 'cloudflared.warning'
  | 'cloudflared.restart-needed';

/** A rollback's order (the image, the snapshot to restore), written with its deploy.queued (deploys/queue-rollback.ts). */
export type RollbackAction = 'rollback.planned';

/** Written once at a deploy's start when its spec has parts this deploy leaves aside. */
export type SpecAction = 'spec.warnings';

/** After a crash: what the runtime kept of an interrupted deploy's instances. */
export type RuntimeRecoveryAction = 'runtime.recovered';

/** A scheduled or one-off run of a process (runs/process-runs.ts). */
export type RunAction = 'run.start' | 'run.complete' | 'run.failed';

/** The commit-status outbox reporting on itself; these never become statuses. */
export type StatusAction = 'status.reported' | 'status.failed';

/** An operator's verb that is not a deploy (operations/operation-saga.ts). */
export const OPERATION_ACTIONS = ['operation.start', 'operation.progress', 'operation.complete', 'operation.failed'] as const;
export type OperationAction = (typeof OPERATION_ACTIONS)[number];

export type SagaAction =
  | DeployAction
  | StepTransitionAction
  | StepProgressAction
  | RollbackAction
  | SpecAction
  | RuntimeRecoveryAction
  | RunAction
  | StatusAction
  | OperationAction;
