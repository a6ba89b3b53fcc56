// The contract between the runner and a pipeline step. A step never writes to the saga log, the WebSocket or a
// commit status itself: it calls `report`, returns what it produced (or why it skipped), and throws on failure.
import type { AppSpec } from '../apps/infraspec-schema.js';

/** The nine published step names (events, statuses and the CLI use them; `forge` means cloudflared ingress). */
export const STEP_NAMES = ['clone', 'build', 'test', 'snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Outputs a step hands to later steps (merged into their context by the runner). */
export interface StepOutputs {
  workDir?: string;
  imageTag?: string;
  snapshot?: { path: string; takenAt: string };
  [key: string]: unknown;
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
  report(message: string, metadata?: Record<string, unknown>): void;
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
