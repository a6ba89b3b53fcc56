// Canary deployments as an operator sees them (`norn canary`, `norn promote`, `norn canary fail`): the state of an
// app's latest deployment, and the two decisions that end a canary stage. A runtime offers this when it runs
// canaries (Nomad; Docker, in runtime/docker/docker-canaries.ts); the health gate waits for these decisions or
// makes one itself.

export interface CanaryGroupState {
  readonly group: string;
  readonly desiredCanaries: number;
  readonly placedCanaries: number;
  /** Healthy allocations of this deployment (before promotion: the canaries). */
  readonly healthy: number;
  readonly unhealthy: number;
  readonly desiredTotal: number;
  readonly promoted: boolean;
}

export interface CanaryDeployment {
  readonly id: string;
  readonly jobVersion: number;
  /** The runtime's word: running, successful, failed, cancelled… */
  readonly status: string;
  readonly statusDescription: string;
  readonly groups: readonly CanaryGroupState[];
  /** Running, with canaries nobody promoted yet: `norn promote` or `norn canary fail` decide. */
  readonly waitingForPromotion: boolean;
}

export interface CanaryDecision {
  readonly deploymentId: string;
  /** What happened, in words. */
  readonly message: string;
}

export interface CanaryControl {
  /** The app's latest deployment, or null when it never had one. */
  latest(app: string, signal?: AbortSignal): Promise<CanaryDeployment | null>;
  /** Promote every canary of the deployment waiting for it; refused (409) when none waits or one is not healthy. */
  promote(app: string, signal?: AbortSignal): Promise<CanaryDecision>;
  /** Fail the deployment waiting for promotion: its canaries stop, the old version keeps serving. */
  fail(app: string, signal?: AbortSignal): Promise<CanaryDecision>;
}
