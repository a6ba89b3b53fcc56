// Nomad's JSON wire shapes, as far as Norn writes or reads them (see docs/nomad-api.md). Keys are Go field
// names in PascalCase; durations are integer nanoseconds; fields Norn never sets are left out rather than null.

export interface NomadPort {
  Label: string;
  /** Static host port (ReservedPorts) or 0 for a dynamic one. */
  Value?: number;
  /** Port inside the container. */
  To?: number;
  HostNetwork?: string;
}

export interface NomadNetwork {
  Mode?: string;
  ReservedPorts?: NomadPort[] | null;
  DynamicPorts?: NomadPort[] | null;
}

export interface NomadServiceCheck {
  Name?: string;
  Type: string;
  Path?: string;
  PortLabel?: string;
  Method?: string;
  Interval: number;
  Timeout: number;
}

export interface NomadService {
  Name: string;
  Tags?: string[];
  PortLabel?: string;
  Provider?: 'consul' | 'nomad';
  Checks?: NomadServiceCheck[] | null;
}

export interface NomadVolumeMount {
  Volume: string;
  Destination: string;
  ReadOnly: boolean;
}

export interface NomadVolumeRequest {
  Name: string;
  Type: 'host' | 'csi';
  Source: string;
  ReadOnly: boolean;
}

export interface NomadResources {
  CPU?: number;
  MemoryMB?: number;
  MemoryMaxMB?: number;
  Cores?: number;
  DiskMB?: number;
}

export interface NomadTask {
  Name: string;
  Driver: string;
  /** Driver-defined, lower-case keys; for docker: image, command, args, ports. */
  Config: Record<string, unknown>;
  Env?: Record<string, string> | null;
  Resources?: NomadResources | null;
  VolumeMounts?: NomadVolumeMount[] | null;
  Services?: NomadService[] | null;
  Meta?: Record<string, string> | null;
  KillTimeout?: number | null;
  KillSignal?: string;
  /** Parameterized jobs: where a dispatched payload is written, relative to the task's `local/` dir. */
  DispatchPayload?: { File: string } | null;
}

export interface NomadRestartPolicy {
  Attempts: number;
  Interval: number;
  Delay: number;
  Mode: 'fail' | 'delay';
}

export interface NomadReschedulePolicy {
  Attempts?: number;
  Interval?: number;
  Delay?: number;
  DelayFunction?: string;
  MaxDelay?: number;
  Unlimited?: boolean;
}

export interface NomadUpdateStrategy {
  Stagger?: number | null;
  MaxParallel?: number | null;
  HealthCheck?: 'checks' | 'task_states' | 'manual' | null;
  MinHealthyTime?: number | null;
  HealthyDeadline?: number | null;
  ProgressDeadline?: number | null;
  Canary?: number | null;
  AutoRevert?: boolean | null;
  AutoPromote?: boolean | null;
}

export interface NomadTaskGroup {
  Name: string;
  Count: number;
  Tasks: NomadTask[];
  Volumes?: Record<string, NomadVolumeRequest> | null;
  RestartPolicy?: NomadRestartPolicy | null;
  ReschedulePolicy?: NomadReschedulePolicy | null;
  Update?: NomadUpdateStrategy | null;
  Networks?: NomadNetwork[] | null;
  Services?: NomadService[] | null;
  Meta?: Record<string, string> | null;
}

export interface NomadPeriodic {
  Enabled: boolean;
  Spec: string;
  SpecType: 'cron';
  ProhibitOverlap?: boolean;
  TimeZone?: string;
}

/** A job that runs when dispatched (`nomad job dispatch`): Norn's function processes. */
export interface NomadParameterizedJob {
  Payload: 'optional' | 'required' | 'forbidden';
  MetaRequired?: string[] | null;
  MetaOptional?: string[] | null;
}

export interface NomadJob {
  ID: string;
  Name: string;
  Namespace?: string;
  Region?: string;
  Type: 'service' | 'batch' | 'system' | 'sysbatch';
  Priority?: number;
  Datacenters?: string[];
  NodePool?: string;
  TaskGroups: NomadTaskGroup[];
  Update?: NomadUpdateStrategy | null;
  Periodic?: NomadPeriodic | null;
  ParameterizedJob?: NomadParameterizedJob | null;
  Meta?: Record<string, string> | null;
  // Set by the server.
  /** The periodic or parameterized job a child job was launched or dispatched from. */
  ParentID?: string;
  Dispatched?: boolean;
  /** A dispatched job's payload, base64 of its snappy-compressed bytes. */
  Payload?: string | null;
  Stop?: boolean;
  Status?: string;
  Stable?: boolean;
  Version?: number;
  SubmitTime?: number;
  CreateIndex?: number;
  ModifyIndex?: number;
  JobModifyIndex?: number;
}

export interface NomadRegisterResponse {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  /** Newline-separated warnings; "" when there are none. */
  Warnings: string;
  Index: number;
}

export interface NomadAllocationMetric {
  NodesEvaluated?: number;
  NodesFiltered?: number;
  NodesExhausted?: number;
  ClassExhausted?: Record<string, number> | null;
  DimensionExhausted?: Record<string, number> | null;
  ConstraintFiltered?: Record<string, number> | null;
  CoalescedFailures?: number;
}

export interface NomadDesiredUpdates {
  Ignore: number;
  Place: number;
  Migrate: number;
  Stop: number;
  InPlaceUpdate: number;
  DestructiveUpdate: number;
  Canary: number;
  Preemptions: number;
}

export interface NomadPlanResponse {
  Annotations: { DesiredTGUpdates: Record<string, NomadDesiredUpdates> | null } | null;
  FailedTGAllocs: Record<string, NomadAllocationMetric> | null;
  JobModifyIndex: number;
  CreatedEvals: unknown[] | null;
  /** Nomad's structural diff ({Type: Added|Edited|Deleted|None, Fields, Objects, TaskGroups}). */
  Diff: Record<string, unknown> | null;
  Warnings: string;
  Index: number;
}

export type NomadEvalStatus = 'blocked' | 'pending' | 'complete' | 'failed' | 'canceled';

export interface NomadEvaluation {
  ID: string;
  Type: string;
  TriggeredBy: string;
  JobID: string;
  Namespace?: string;
  DeploymentID: string;
  Status: NomadEvalStatus;
  StatusDescription: string;
  /** Nanoseconds to wait before following NextEval. */
  Wait?: number;
  NextEval: string;
  BlockedEval: string;
  FailedTGAllocs: Record<string, NomadAllocationMetric> | null;
  CreateIndex: number;
  ModifyIndex: number;
}

export type NomadDeploymentStatus =
  | 'running'
  | 'paused'
  | 'failed'
  | 'successful'
  | 'cancelled'
  | 'initializing'
  | 'pending'
  | 'blocked'
  | 'unblocking';

export interface NomadDeploymentState {
  AutoRevert: boolean;
  AutoPromote: boolean;
  ProgressDeadline: number;
  RequireProgressBy: string | null;
  Promoted: boolean;
  PlacedCanaries: string[] | null;
  DesiredCanaries: number;
  DesiredTotal: number;
  PlacedAllocs: number;
  HealthyAllocs: number;
  UnhealthyAllocs: number;
}

export interface NomadDeployment {
  ID: string;
  Namespace: string;
  JobID: string;
  JobVersion: number;
  JobModifyIndex: number;
  JobSpecModifyIndex: number;
  JobCreateIndex: number;
  TaskGroups: Record<string, NomadDeploymentState>;
  Status: NomadDeploymentStatus;
  StatusDescription: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface NomadDeploymentUpdateResponse {
  EvalID: string;
  EvalCreateIndex: number;
  DeploymentModifyIndex: number;
  RevertedJobVersion?: number | null;
  Index: number;
}

export interface NomadTaskEvent {
  Type: string;
  Time: number;
  Message?: string;
  DisplayMessage: string;
  Details: Record<string, string> | null;
  FailsTask?: boolean;
  ExitCode?: number;
}

export interface NomadTaskState {
  State: 'pending' | 'running' | 'dead';
  Failed: boolean;
  Restarts: number;
  LastRestart: string | null;
  StartedAt: string | null;
  FinishedAt: string | null;
  Events: NomadTaskEvent[] | null;
}

export type NomadClientStatus = 'pending' | 'running' | 'complete' | 'failed' | 'lost' | 'unknown';

export interface NomadAllocDeploymentStatus {
  Healthy: boolean | null;
  Timestamp: string | null;
  Canary: boolean;
  ModifyIndex: number;
}

export interface NomadAllocationStub {
  ID: string;
  EvalID: string;
  Name: string;
  Namespace: string;
  NodeID: string;
  NodeName: string;
  JobID: string;
  JobType: string;
  JobVersion: number;
  TaskGroup: string;
  DesiredStatus: 'run' | 'stop' | 'evict';
  DesiredDescription: string;
  ClientStatus: NomadClientStatus;
  ClientDescription: string;
  TaskStates: Record<string, NomadTaskState> | null;
  DeploymentStatus: NomadAllocDeploymentStatus | null;
  FollowupEvalID: string;
  NextAllocation: string;
  CreateIndex: number;
  ModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
}

export interface NomadAllocation extends NomadAllocationStub {
  DeploymentID: string;
  Job: NomadJob | null;
  AllocatedResources: { Shared: { Ports: { Label: string; Value: number; To: number; HostIP: string }[] | null } } | null;
}

/** GET /v1/jobs: one job of the list (`JobListStub`). */
export interface NomadJobListStub {
  ID: string;
  ParentID: string;
  Name: string;
  Namespace?: string;
  Type: string;
  Periodic: boolean;
  ParameterizedJob: boolean;
  Stop: boolean;
  Status: string;
  StatusDescription: string;
  CreateIndex: number;
  ModifyIndex: number;
  JobModifyIndex: number;
  /** Unix nanoseconds. */
  SubmitTime: number;
}

export interface NomadDispatchResponse {
  DispatchedJobID: string;
  EvalID: string;
  EvalCreateIndex: number;
  JobCreateIndex: number;
  Index: number;
}

export interface NomadPeriodicForceResponse {
  EvalID: string;
  EvalCreateIndex: number;
  Index: number;
}
