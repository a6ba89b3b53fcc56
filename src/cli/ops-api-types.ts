// The JSON of the operator commands' API answers (plan, secrets, snapshots, cloudflared ingress), typed by the
// routes that send them. Type-only imports: the CLI still reaches the service through HTTP alone.
export type { PlanAnswer, SecretKeysAnswer } from '../http/routes/app-ops-routes.js';
export type { SecretEditAnswer } from '../operations/edit-app-secret.js';
export type { NomadJob, NomadPlanResponse } from '../integrations/nomad/nomad-types.js';
export type { Snapshot } from '../snapshots/snapshot-store.js';
export type { RestoreSnapshotResult } from '../snapshots/restore-snapshot.js';
export type { IngressListing } from '../pipeline/ingress/cloudflared-ingress.js';
export type { IngressRule } from '../integrations/cloudflared/ingress-document.js';
export type { TeardownResult } from '../pipeline/ingress/teardown-endpoints.js';
export type { TeardownPreview } from '../http/routes/instance-routes.js';
