// The JSON the CLI reads from the API, as it arrives over the wire (dates are ISO strings). Only the fields the
// CLI uses are listed; the server may send more.
import type { Envelope, SagaEvent } from '../events/saga-event.js';

export type { Envelope, SagaEvent };

export interface DeployView {
  readonly sagaId: string;
  readonly app: string;
  readonly kind: string;
  readonly ref: string;
  readonly commitSha: string;
  readonly trigger: string;
  readonly deliveryId: string | null;
  readonly status: string;
  readonly currentStep: string | null;
  readonly error: string | null;
  readonly imageTag: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** The run's steps in order, cleanup last; absent from receivers older than the field. */
  readonly steps?: readonly string[];
}

export interface QueuedDeploy {
  readonly app: string;
  readonly sagaId: string;
  readonly ref?: string;
  readonly commitSha: string;
}

export interface SagaAnswer {
  readonly saga: DeployView | null;
  readonly events: readonly SagaEvent[];
}

export interface AppSummary {
  readonly name: string;
  readonly file: string;
  readonly repo: { readonly url: string; readonly branch: string } | null;
  readonly processes: readonly string[];
  readonly lastDeploy: DeployView | null;
  /** Absent from receivers older than the field. */
  readonly warnings?: readonly { readonly path: string; readonly reason: string; readonly line?: number }[];
}

export interface AppsAnswer {
  readonly apps: readonly AppSummary[];
  readonly errors: readonly { readonly file: string; readonly path: string; readonly reason: string }[];
}

export interface AppDetail {
  readonly name: string;
  readonly file: string;
  readonly spec: { readonly repo?: { readonly url: string; readonly branch: string }; readonly image?: string; readonly build?: unknown };
  readonly currentImage: string | null;
  /** The newest successful deploy: where `currentImage` came from; `notRouted` says why its hostnames are not routed. */
  readonly currentDeploy?: (DeployView & { readonly notRouted?: string | null }) | null;
  /** A newer deploy that built an image but did not go live (failed or interrupted after build). */
  readonly lastBuiltNotDeployed?: DeployView | null;
  readonly running: DeployView | null;
  readonly deploys: readonly DeployView[];
}

/** One entry of `GET /api/apps/:app/instances`. */
export interface InstanceView {
  readonly process: string;
  readonly id: string;
  readonly address: string | null;
  readonly image: string | null;
  readonly commitSha: string | null;
  readonly state: string;
  readonly healthy: boolean | null;
}

export interface DecisionTrace {
  readonly signature: string;
  readonly event?: string;
  readonly ref?: string;
  readonly commitSha?: string;
  readonly steps: readonly string[];
  readonly apps: readonly { readonly app: string; readonly matched: boolean; readonly reason: string }[];
  readonly invalidSpecs: readonly { readonly file: string; readonly path: string; readonly reason: string }[];
  readonly specWarnings?: readonly { readonly app: string; readonly path: string; readonly reason: string }[];
}

export interface DeliveryView {
  readonly id: string;
  readonly forge: string;
  readonly deliveryId: string;
  readonly event: string | null;
  readonly verdict: string;
  readonly statusCode: number;
  readonly reason: string;
  readonly trace: DecisionTrace;
  readonly repo: string | null;
  readonly ref: string | null;
  readonly commitSha: string | null;
  readonly redeliveryOf: string | null;
  readonly receivedAt: string;
}

export interface DeliveryAnswer {
  readonly delivery: DeliveryView;
  readonly deploys: readonly DeployView[];
}

export interface RedeliveryAnswer {
  readonly deliveryId?: string;
  readonly verdict?: string;
  readonly reason?: string;
  readonly deploys?: readonly QueuedDeploy[];
  readonly redeliveryOf: string;
}
