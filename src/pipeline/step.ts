// The contract between the runner and a pipeline step. A step never writes to the saga log, the WebSocket or a
// commit status itself: it calls `report`, returns what it produced (or why it skipped), and throws on failure.
import type { AppSpec } from '../apps/infraspec-schema.js';
import type { StepProgressAction } from '../events/saga-actions.js';

/** The nine published step names (events, statuses and the CLI use them; `forge` means cloudflared ingress). */
export const STEP_NAMES = ['clone', 'build', 'test', 'snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** A container the Docker runtime's submit started; its healthy, retire and discard act on these. */
export interface StartedContainer {
  readonly id: string;
  readonly name: string;
  readonly process: string;
  /** host:port, or undefined for a process without a port. */
  readonly address?: string;
  /** Started as a canary: the rest of its process waits for promotion (Docker runtime). */
  readonly canary?: boolean;
}

/**
 * What the steps hand to later ones (the runner merges each step's into the next one's context). Each field names
 * the step that sets it; a field a step needs and an earlier one did not set is simply absent.
 */
export interface StepOutputs {
  /** clone: the checkout. */
  readonly workDir?: string;
  /** build: the image built (or found); submit: the image it ran. */
  readonly imageTag?: string;
  /** build: the image of the Dockerfile's test target, when tests run in their own image (cleanup removes it). */
  readonly testImage?: string;
  /** snapshot: the dump taken before migrating. */
  readonly snapshot?: { readonly path: string; readonly takenAt: string };
  /** snapshot: that dump's id, as `norn snapshots <app> restore <ts>` names it (may be a second after takenAt). */
  readonly snapshotTs?: string;
  /** migrate: the migration command that ran, when the spec's migrations are a command. */
  readonly migrationCommand?: string;
  /** rollback: the dump of the data taken just before a restore, and the snapshot restored. */
  readonly safetySnapshotTs?: string;
  readonly restoredSnapshotTs?: string;
  /** migrate: the files applied by this deploy. */
  readonly migrationsApplied?: readonly string[];
  /** submit (Nomad): the service job and its registration; healthy follows `evalId`. */
  readonly jobId?: string;
  /** "" when the service job has no task groups and was not registered. */
  readonly evalId?: string;
  readonly jobModifyIndex?: number;
  readonly taskGroups?: readonly string[];
  readonly periodicJobs?: readonly { readonly jobId: string; readonly jobModifyIndex: number }[];
  readonly warnings?: readonly string[];
  /** submit (Docker): the containers started for this deploy. */
  readonly runtime?: 'docker';
  readonly instances?: readonly StartedContainer[];
  /** healthy (Nomad): the deployment that passed. */
  readonly deploymentId?: string;
  /** forge: the routes written, or why the app is live but not routed (no cloudflared config). */
  readonly routes?: readonly { readonly hostname: string; readonly service: string; readonly process: string }[];
  readonly notRouted?: string;
}

/** A progress line's kind and facts; a plain line is `step.progress` with no facts. */
export interface StepProgress {
  readonly action?: StepProgressAction;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface StepContext {
  readonly sagaId: string;
  readonly app: string;
  readonly spec: AppSpec;
  /** Directory of the app's spec in the apps dir (for secrets.enc.yaml). */
  readonly specDir: string;
  readonly ref: string;
  readonly commitSha: string;
  readonly cloneUrl: string;
  /** Aborted when the step times out or the deploy is cancelled. */
  readonly signal: AbortSignal;
  /** Outputs of the steps before this one. */
  readonly outputs: Readonly<StepOutputs>;
  /** A progress line for the saga and the live feed (`deploy.progress`). */
  report(message: string, progress?: StepProgress): void;
}

export type StepResult =
  | { readonly status: 'complete'; readonly outputs: StepOutputs; readonly message?: string }
  | { readonly status: 'skipped'; readonly reason: string };

export interface Step {
  readonly name: StepName;
  run(ctx: StepContext): Promise<StepResult>;
}

export function done(outputs: StepOutputs = {}, message?: string): StepResult {
  return { status: 'complete', outputs, message };
}

export function skipped(reason: string): StepResult {
  return { status: 'skipped', reason };
}
