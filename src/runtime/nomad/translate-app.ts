// The app's plan (app-plan/plan-app.ts) rendered as Nomad jobs. Pure and deterministic: groups, jobs and map keys
// come out sorted and nothing depends on the clock, so the same spec and image give byte-identical jobs and Nomad
// sees an unchanged job as unchanged (no new version, no deployment; the reference Norn's `deploy_ts` meta forced
// a replacement every time). What runs, with which env, resources and checks is the plan's decision; what is
// Nomad's own here is DESIGN.md's "Nomad update strategy set by the translator" and NOMAD_API.md section 6
// (port labels, reserved vs dynamic ports, Consul services, restart policy).
import type { AppSpec } from '../../apps/infraspec-schema.js';
import { type AppPlan, type PlannedProcess, planApp } from '../../app-plan/plan-app.js';
import type {
  NomadJob,
  NomadNetwork,
  NomadPort,
  NomadService,
  NomadTask,
  NomadTaskGroup,
  NomadVolumeRequest,
} from '../../integrations/nomad/nomad-types.js';

export interface TranslateInput {
  spec: AppSpec;
  image: string;
  /** Decrypted secrets (flattened to env names); they override every other env source. */
  secrets: Readonly<Record<string, string>>;
  appPostgresUrl?: string;
  datacenters?: string[];
  namespace?: string;
  /** Scheduled processes an operator paused: their periodic jobs are registered disabled, so a deploy keeps them paused. */
  pausedSchedules?: ReadonlySet<string>;
}

export interface TranslatedJobs {
  /** The app's service job; it has no task groups when every process is scheduled or a function. */
  service: NomadJob;
  /** One periodic batch job per scheduled process, sorted by id. */
  periodic: NomadJob[];
  /** One parameterized batch job per function process (`<app>-<process>`), sorted by id; dispatched when invoked. */
  functions: NomadJob[];
  /** Env keys holding secret values, so printed jobs can be redacted. */
  secretEnvKeys: string[];
}

const NS_PER_MS = 1e6;
const ns = (ms: number) => Math.round(ms * NS_PER_MS);
const SECOND = 1e9;

export function translateApp(input: TranslateInput): TranslatedJobs {
  const plan = planApp(input);
  return renderNomadJobs(plan, { spec: input.spec, datacenters: input.datacenters, namespace: input.namespace, pausedSchedules: input.pausedSchedules });
}

/** Where Nomad writes a dispatched payload, told to the function as NORN_PAYLOAD_FILE (Nomad interpolates it). */
const NOMAD_PAYLOAD_FILE = ['$', '{NOMAD_TASK_DIR}/payload'].join('');

/** `spec` is read only for what is Nomad's own: whether the app has endpoints (a reserved port for cloudflared). */
export function renderNomadJobs(
  plan: AppPlan,
  opts: { spec: Pick<AppSpec, 'endpoints'>; datacenters?: string[]; namespace?: string; pausedSchedules?: ReadonlySet<string> },
): TranslatedJobs {
  const hasEndpoints = (opts.spec.endpoints?.length ?? 0) > 0;
  const groups = plan.processes
    .filter((p) => p.kind === 'service')
    .map((proc): NomadTaskGroup => {
      const { networks, services, labels } = networking(plan.app, proc, hasEndpoints);
      return {
        Name: proc.name,
        Count: proc.count,
        Tasks: [dockerTask(plan, proc, labels)],
        ...volumes(plan),
        RestartPolicy: { Attempts: 3, Interval: 5 * 60 * SECOND, Delay: 15 * SECOND, Mode: 'delay' },
        // A canary group is promoted or failed by Norn after `evaluateAfter`, so Nomad must not revert it itself.
        Update: proc.canary
          ? { MaxParallel: 1, MinHealthyTime: 30 * SECOND, AutoRevert: false, Canary: proc.canary.count }
          : { MaxParallel: 1, MinHealthyTime: 30 * SECOND, AutoRevert: true },
        ...(networks.length > 0 ? { Networks: networks } : {}),
        ...(services.length > 0 ? { Services: services } : {}),
      };
    });

  const periodic = plan.processes
    .filter((p) => p.kind === 'scheduled')
    .map((proc): NomadJob => {
      const timeZone = proc.schedule!.timeZone;
      return {
        ...jobHeader(`${plan.app}-${proc.name}`, 'batch', opts),
        // Nomad's documented switch: a disabled periodic job neither launches on its schedule nor can be forced.
        Periodic: { Enabled: !opts.pausedSchedules?.has(proc.name), SpecType: 'cron', Spec: proc.schedule!.cron, ...(timeZone ? { TimeZone: timeZone } : {}) },
        TaskGroups: [{ Name: proc.name, Count: 1, Tasks: [dockerTask(plan, proc, [])], ...volumes(plan) }],
      };
    });

  const functions = plan.processes
    .filter((p) => p.kind === 'function')
    .map((proc): NomadJob => {
      const task = dockerTask(plan, proc, []);
      return {
        ...jobHeader(`${plan.app}-${proc.name}`, 'batch', opts),
        ParameterizedJob: { Payload: 'optional' },
        TaskGroups: [
          {
            Name: proc.name,
            Count: 1,
            // One invocation runs once: a failed function is reported, not retried or rescheduled by Nomad.
            RestartPolicy: { Attempts: 0, Interval: 60 * SECOND, Delay: 5 * SECOND, Mode: 'fail' },
            ReschedulePolicy: { Attempts: 0, Unlimited: false },
            Tasks: [
              {
                ...task,
                Env: { ...task.Env, NORN_PAYLOAD_FILE: NOMAD_PAYLOAD_FILE },
                Resources: { CPU: proc.cpuMhz, MemoryMB: proc.function?.memoryMb ?? proc.memoryMb },
                DispatchPayload: { File: 'payload' },
              },
            ],
            ...volumes(plan),
          },
        ],
      };
    });

  return {
    service: { ...jobHeader(plan.app, 'service', opts), TaskGroups: groups },
    periodic,
    functions,
    secretEnvKeys: [...plan.secretEnvKeys],
  };
}

function jobHeader(id: string, type: 'service' | 'batch', opts: { datacenters?: string[]; namespace?: string }) {
  return {
    ID: id,
    Name: id,
    ...(opts.namespace ? { Namespace: opts.namespace } : {}),
    Type: type,
    Priority: 50,
    Datacenters: [...(opts.datacenters ?? ['dc1'])],
  };
}

function dockerTask(plan: AppPlan, proc: PlannedProcess, ports: string[]): NomadTask {
  const config: Record<string, unknown> = { image: plan.image };
  if (proc.command) Object.assign(config, { command: '/bin/sh', args: ['-c', proc.command] });
  if (ports.length > 0) config.ports = ports;
  return {
    Name: proc.name,
    Driver: 'docker',
    Config: config,
    Env: { ...proc.env },
    Resources: { CPU: proc.cpuMhz, MemoryMB: proc.memoryMb },
    KillSignal: proc.drain.signal,
    ...(proc.drain.timeoutMs !== undefined ? { KillTimeout: ns(proc.drain.timeoutMs) } : {}),
    ...(plan.volumes.length
      ? { VolumeMounts: plan.volumes.map((v) => ({ Volume: v.name, Destination: v.mount, ReadOnly: v.readOnly })) }
      : {}),
  };
}

/** Every declared volume (the reference Norn kept only the last one, which Nomad then rejects). */
function volumes(plan: AppPlan): { Volumes?: Record<string, NomadVolumeRequest> } {
  if (!plan.volumes.length) return {};
  const sorted = [...plan.volumes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    Volumes: Object.fromEntries(sorted.map((v) => [v.name, { Name: v.name, Type: 'host', Source: v.name, ReadOnly: v.readOnly }])),
  };
}

/** Ports, the Consul service with its health check, and the metrics service of one service process. */
function networking(app: string, proc: PlannedProcess, hasEndpoints: boolean) {
  const network: { ReservedPorts: NomadPort[]; DynamicPorts: NomadPort[] } = { ReservedPorts: [], DynamicPorts: [] };
  const services: NomadService[] = [];
  const labels: string[] = [];
  const httpLabel = `${proc.name}-http`;
  if (proc.port !== undefined) {
    labels.push(httpLabel);
    // cloudflared routes endpoints to a fixed host port, so apps with endpoints reserve theirs.
    if (hasEndpoints) network.ReservedPorts.push({ Label: httpLabel, Value: proc.port, To: proc.port });
    else network.DynamicPorts.push({ Label: httpLabel, To: proc.port });
    services.push({
      Name: `${app}-${proc.name}`,
      PortLabel: httpLabel,
      Provider: 'consul',
      ...(proc.health
        ? { Checks: [{ Type: 'http', Path: proc.health.path, Interval: ns(proc.health.intervalMs), Timeout: ns(proc.health.timeoutMs) }] }
        : {}),
    });
  }
  if (proc.metrics) {
    const port = proc.metrics.port;
    let label = httpLabel;
    if (port !== proc.port) {
      label = `${proc.name}-metrics`;
      labels.push(label);
      network.DynamicPorts.push({ Label: label, To: port });
    }
    services.push({
      Name: `${app}-${proc.name}-metrics`,
      Tags: ['metrics', 'prometheus'],
      PortLabel: label,
      Provider: 'consul',
      Checks: [{ Type: 'http', Path: proc.metrics.path, Interval: 30 * SECOND, Timeout: 5 * SECOND }],
    });
  }
  const used = network.ReservedPorts.length + network.DynamicPorts.length > 0;
  const networks: NomadNetwork[] = used
    ? [{ ...(network.ReservedPorts.length ? { ReservedPorts: network.ReservedPorts } : {}), ...(network.DynamicPorts.length ? { DynamicPorts: network.DynamicPorts } : {}) }]
    : [];
  return { networks, services, labels };
}
