// What an operator asks of the runtime after a deploy: the instances' output (`norn logs`), a new instance count
// for a service process (`norn scale`) and a rolling, health-gated restart (`norn restart`). Each runtime answers
// them its own way (Docker: the engine's containers; Nomad: the job scale and client allocation APIs); the HTTP
// routes and the saga around them are the same for both.
import type { AppSpec } from '../apps/infraspec-schema.js';

/** Which output to read. */
export interface LogRequest {
  /** Only this process's instances; all service processes when undefined. */
  readonly process?: string;
  /** Keep streaming what they write until `signal` aborts. */
  readonly follow: boolean;
  /** The last `tail` lines of each instance before following; everything kept (or since `sinceMs`) when undefined. */
  readonly tail?: number;
  /** Epoch ms: only what was written after it. Runtimes that keep no timestamps refuse it (InvalidInputError). */
  readonly sinceMs?: number;
  /** Aborted when the client goes away: every stream the runtime opened must close then. */
  readonly signal: AbortSignal;
}

/** One line an instance wrote, without its newline. */
export interface LogLine {
  readonly process: string;
  /** The instance as `norn status` shows it: container id (12) or allocation id (8). */
  readonly instance: string;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** Lines for the operation's saga, as the work goes. */
export type OperationProgress = (message: string, metadata?: Readonly<Record<string, unknown>>) => Promise<void>;

export interface ScaleRequest {
  readonly app: string;
  /** The app's current spec (its processes' health checks). */
  readonly spec: AppSpec;
  readonly process: string;
  readonly count: number;
  readonly signal: AbortSignal;
  readonly report: OperationProgress;
}

export interface ScaleOutcome {
  readonly from: number;
  readonly to: number;
}

export interface RestartRequest {
  readonly app: string;
  readonly spec: AppSpec;
  /** Every service process when undefined. */
  readonly process?: string;
  readonly signal: AbortSignal;
  readonly report: OperationProgress;
}

export interface RestartOutcome {
  /** The instances restarted, in the order they were. */
  readonly restarted: readonly { readonly process: string; readonly instance: string }[];
}

/** A rolling operation stopped at one instance; the ones after it were not touched. */
export class InstanceFailedError extends Error {
  constructor(
    readonly instance: string,
    readonly process: string,
    readonly reason: string,
  ) {
    super(`${process} instance ${instance}: ${reason}`);
    this.name = 'InstanceFailedError';
  }
}
