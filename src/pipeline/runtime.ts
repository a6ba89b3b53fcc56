// Where an app runs. The pipeline's `submit` and `healthy` steps, the preflight's plan, the forge step's target,
// and the operator views (instances, logs) go through this one interface; Nomad (clusters) and the local Docker
// engine (one machine) implement it from the same plan of the spec (app-plan/plan-app.ts).
import type { AppSpec } from '../apps/infraspec-schema.js';
import type { ResolveServiceAddress } from './ingress/resolve-service-address.js';
import type { CanaryControl } from './canary-control.js';
import type { LogLine, LogRequest, RestartOutcome, RestartRequest, ScaleOutcome, ScaleRequest } from './runtime-operations.js';
import type { StepContext, StepResult } from './step.js';

export type RuntimeName = 'nomad' | 'docker';

/** One running (or failed) instance of a process, as `GET /api/apps/:app/instances` answers it. */
export interface RuntimeInstance {
  readonly process: string;
  /** Container id (Docker) or allocation id (Nomad). */
  readonly id: string;
  /** `host:port` reachable from this machine; null when the process listens on no port or it is not known. */
  readonly address: string | null;
  readonly image: string | null;
  readonly commitSha: string | null;
  /** The runtime's own word: running, restarting, exited (Docker); pending, running, failed… (Nomad). */
  readonly state: string;
  /** Whether its health check passes now; null when it has none to ask or the runtime does not say. */
  readonly healthy: boolean | null;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Step `submit`: start (or register) the app's processes with the deploy's image. */
  submit(ctx: StepContext): Promise<StepResult>;
  /** Step `healthy`: pass once what submit started is healthy; fail (leaving the old version serving) otherwise. */
  healthy(ctx: StepContext): Promise<StepResult>;
  /** After the ingress points at the new instances: drain and remove the ones they replace. */
  retire(ctx: StepContext): Promise<void>;
  /** A step after `healthy` failed: remove what this deploy started, so the old version alone keeps serving. */
  discard(ctx: StepContext): Promise<void>;
  /** The preflight's `submit`: what a deploy would start, changing nothing. */
  plan(ctx: StepContext): Promise<StepResult>;
  /** Where the forge step routes an app's endpoints. */
  readonly serviceAddress: ResolveServiceAddress;
  instances(app: string, signal?: AbortSignal): Promise<RuntimeInstance[]>;
  /** `norn teardown`: stop and remove every instance of the app; `note` says what was left and why. */
  stop(app: string): Promise<{ stopped: number; note?: string }>;
  /** What `stop` would do now, changing nothing: how many instances it would stop, and its note (`norn teardown` asks with it). */
  previewStop(app: string): Promise<{ stops: number; note?: string }>;
  /** The last lines an instance wrote (stdout and stderr). */
  logs(app: string, instanceId: string, opts: { tail: number; signal?: AbortSignal }): Promise<string>;
  /** `norn logs`: the instances' stdout and stderr, line by line, ending when `signal` aborts (or at the end without `follow`). */
  streamLogs(app: string, request: LogRequest): AsyncIterable<LogLine>;
  /** `norn scale`: run `count` instances of a service process, the new ones health gated like a deploy's. */
  scale(request: ScaleRequest): Promise<ScaleOutcome>;
  /** `norn restart`: one instance at a time, the next only once the previous is healthy again. */
  restart(request: RestartRequest): Promise<RestartOutcome>;
  /**
   * A deploy a dead receiver left behind: settle what it started, so exactly one version runs. Returns a sentence
   * for the saga saying what was kept.
   */
  recoverInterrupted(deploy: { readonly id: string; readonly app: string }): Promise<string | undefined>;
  /**
   * Runs a scheduled or function process once, to completion, in a new instance of `image`. Undefined on a runtime
   * that runs those itself (Nomad's periodic jobs).
   */
  runOnce?(request: OneOffRun): Promise<OneOffOutcome>;
  /** Canary deployments (`norn canary`, `promote`, `canary fail`). */
  readonly canary: CanaryControl;
}

export interface OneOffRun {
  readonly spec: AppSpec;
  readonly specDir: string;
  readonly process: string;
  readonly image: string;
  /** Recorded on the instance (its saga label) and in the saga log. */
  readonly sagaId: string;
  readonly commitSha: string;
  /** Appended to the command (`"$@"`), or the command itself when the process has none. */
  readonly args: readonly string[];
  readonly timeoutMs: number;
  /** An invocation's payload: a file in the instance whose path is in NORN_PAYLOAD_FILE (absent: no such file). */
  readonly payload?: Uint8Array;
}

/** Where a one-off run's payload is, inside a Docker instance (Nomad writes it to `${NOMAD_TASK_DIR}/payload`). */
export const DOCKER_PAYLOAD_FILE = '/norn/payload';

export interface OneOffOutcome {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The last lines of its output. */
  readonly logTail: string;
  readonly durationMs: number;
}

/** The runtime chosen for this service (runtime/select-runtime.ts), asked at each use. */
export interface RuntimeSource {
  /** The runtime, or a StepFailedError of `step` saying which settings would give one. */
  require(step: string): Promise<Runtime>;
  current(): Promise<Runtime | undefined>;
}
