// The state of one run as the CLI has seen it from the live stream: its steps and how the saga ended.
// Pure: fed envelopes, read by the renderers.
import type { Envelope } from './api-types.js';

export type StepStatus = 'pending' | 'running' | 'complete' | 'failed' | 'skipped';

export interface StepState {
  readonly name: string;
  status: StepStatus;
  durationMs?: number;
  message?: string;
  /** When the CLI saw the step start (for the running timer). */
  startedAt?: number;
  /** deploy.progress lines reported under this step (allocation health under `healthy`). */
  readonly progress: string[];
}

export type Outcome = 'queued' | 'running' | 'succeeded' | 'failed';

/** How the run's end reads (deployed, preflight passed, rolled back). */
export type RunKind = 'deploy' | 'preflight' | 'rollback';

export class DeployProgress {
  readonly steps: StepState[];
  outcome: Outcome = 'queued';
  ref?: string;
  commitSha?: string;
  imageTag?: string;
  /** Set when the deploy is live but its hostnames are not routed (no cloudflared config): why. */
  notRouted?: string;
  durationMs?: number;
  failedStep?: string;
  error?: string;
  /** Why a deploy ended without running to the end: failed, superseded, interrupted. */
  reason?: string;

  /** False when the receiver did not say which steps the run has: steps are then added as they first report. */
  private readonly isStepListKnown: boolean;

  /**
   * `steps`: the run's steps in order, as the receiver's saga answer lists them (`saga.steps`). A receiver older than
   * that field sends none; the CLI may talk to one (NORN_URL can name any receiver), and rather than guess a list by
   * the run's kind it then shows each step from its first event on.
   */
  constructor(
    readonly sagaId: string,
    readonly kind: RunKind = 'deploy',
    steps?: readonly string[],
  ) {
    this.isStepListKnown = steps !== undefined;
    this.steps = (steps ?? []).map((name) => ({ name, status: 'pending', progress: [] }));
  }

  get isFinished(): boolean {
    return this.outcome === 'succeeded' || this.outcome === 'failed';
  }

  step(name: unknown): StepState | undefined {
    return this.steps.find((s) => s.name === name);
  }

  /** Applies one envelope; returns false when it belongs to another saga (and changed nothing). */
  apply(env: Envelope, now: number): boolean {
    const p = env.payload;
    if (p.sagaId !== this.sagaId) return false;
    switch (env.type) {
      case 'deploy.queued':
        this.ref = str(p.ref);
        this.commitSha = str(p.commitSha);
        break;
      case 'deploy.step': {
        const step = this.step(p.step) ?? this.firstSeen(p.step);
        if (!step) break;
        this.outcome = 'running';
        step.status = p.status as StepStatus;
        step.message = str(p.message);
        if (step.status === 'running') step.startedAt = now;
        if (typeof p.durationMs === 'number') step.durationMs = p.durationMs;
        break;
      }
      case 'deploy.progress':
        if (p.action === 'deploy.start') this.outcome = 'running';
        this.step(p.step)?.progress.push(String(p.message ?? ''));
        break;
      case 'deploy.completed':
        this.outcome = 'succeeded';
        this.imageTag = str(p.imageTag);
        this.notRouted = str(p.notRouted);
        if (typeof p.durationMs === 'number') this.durationMs = p.durationMs;
        break;
      case 'deploy.failed':
        this.outcome = 'failed';
        this.failedStep = str(p.step);
        this.error = str(p.error);
        this.reason = str(p.reason);
        break;
    }
    return true;
  }

  /** A step the receiver did not list beforehand (see the constructor); a listed run ignores unknown names. */
  private firstSeen(name: unknown): StepState | undefined {
    if (this.isStepListKnown || typeof name !== 'string' || name === '') return undefined;
    const step: StepState = { name, status: 'pending', progress: [] };
    this.steps.push(step);
    return step;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
