// infraspec -> Nomad jobs. Pure and deterministic: groups, jobs and map keys come out sorted and nothing depends on
// the clock, so the same spec and image give byte-identical jobs and Nomad sees an unchanged job as unchanged
// (no new version, no deployment; the reference Norn's `deploy_ts` meta forced a replacement every time).
// The choices are DESIGN.md's "Nomad update strategy set by the translator" and NOMAD_API.md section 6.
import { parseGoDuration } from '../apps/go-duration.js';
import { type AppSpec, type Process, processKind } from '../apps/infraspec-schema.js';
import type {
  NomadJob,
  NomadNetwork,
  NomadPort,
  NomadService,
  NomadTask,
  NomadTaskGroup,
  NomadVolumeRequest,
} from '../integrations/nomad/nomad-types.js';
import { processEnv } from './process-env.js';

export interface TranslateInput {
  spec: AppSpec;
  image: string;
  /** Decrypted secrets (flattened to env names); they override every other env source. */
  secrets: Readonly<Record<string, string>>;
  appPostgresUrl?: string;
  datacenters?: string[];
  namespace?: string;
}

export interface TranslatedJobs {
  /** The app's service job; it has no task groups when every process is scheduled or a function. */
  service: NomadJob;
  /** One periodic batch job per scheduled process, sorted by id. */
  periodic: NomadJob[];
  /** Env keys holding secret values, so printed jobs can be redacted. */
  secretEnvKeys: string[];
}

const NS_PER_MS = 1e6;
const ns = (goDuration: string) => Math.round(parseGoDuration(goDuration) * NS_PER_MS);
const SECOND = 1e9;

export function translateApp(input: TranslateInput): TranslatedJobs {
  const { spec } = input;
  const processes = Object.keys(spec.processes)
    .sort()
    .map((name) => [name, spec.processes[name]!] as const);
  const secretEnvKeys = new Set<string>();
  const task = (name: string, proc: Process, ports: string[]): NomadTask => {
    const { env, secretKeys } = processEnv({ spec, proc, secrets: input.secrets, appPostgresUrl: input.appPostgresUrl });
    secretKeys.forEach((k) => secretEnvKeys.add(k));
    return dockerTask(spec, name, proc, input.image, env, ports);
  };

  const groups = processes
    .filter(([, p]) => processKind(p) === 'service')
    .map(([name, proc]): NomadTaskGroup => {
      const { networks, services, labels } = networking(spec, name, proc);
      return {
        Name: name,
        Count: proc.scaling.min > 0 ? proc.scaling.min : 1,
        Tasks: [task(name, proc, labels)],
        ...volumes(spec),
        RestartPolicy: { Attempts: 3, Interval: 5 * 60 * SECOND, Delay: 15 * SECOND, Mode: 'delay' },
        // A canary group is promoted or failed by Norn after `evaluateAfter`, so Nomad must not revert it itself.
        Update: proc.canary
          ? { MaxParallel: 1, MinHealthyTime: 30 * SECOND, AutoRevert: false, Canary: proc.canary.count }
          : { MaxParallel: 1, MinHealthyTime: 30 * SECOND, AutoRevert: true },
        ...(networks.length > 0 ? { Networks: networks } : {}),
        ...(services.length > 0 ? { Services: services } : {}),
      };
    });

  const periodic = processes
    .filter(([, p]) => processKind(p) === 'scheduled')
    .map(([name, proc]): NomadJob => {
      const timeZone = proc.timezone ?? proc.env?.TZ ?? spec.env?.TZ;
      return {
        ...jobHeader(`${spec.name}-${name}`, 'batch', input),
        Periodic: { Enabled: true, SpecType: 'cron', Spec: proc.schedule!, ...(timeZone ? { TimeZone: timeZone } : {}) },
        TaskGroups: [{ Name: name, Count: 1, Tasks: [task(name, proc, [])], ...volumes(spec) }],
      };
    });

  return {
    service: { ...jobHeader(spec.name, 'service', input), TaskGroups: groups },
    periodic,
    secretEnvKeys: [...secretEnvKeys].sort(),
  };
}

function jobHeader(id: string, type: 'service' | 'batch', input: TranslateInput) {
  return {
    ID: id,
    Name: id,
    ...(input.namespace ? { Namespace: input.namespace } : {}),
    Type: type,
    Priority: 50,
    Datacenters: [...(input.datacenters ?? ['dc1'])],
  };
}

function dockerTask(spec: AppSpec, name: string, proc: Process, image: string, env: Record<string, string>, ports: string[]): NomadTask {
  const config: Record<string, unknown> = { image };
  if (proc.command) Object.assign(config, { command: '/bin/sh', args: ['-c', proc.command] });
  if (ports.length > 0) config.ports = ports;
  return {
    Name: name,
    Driver: 'docker',
    Config: config,
    Env: env,
    Resources: { CPU: proc.resources.cpu, MemoryMB: proc.resources.memory },
    KillSignal: proc.drain.signal,
    ...(proc.drain.timeout ? { KillTimeout: ns(proc.drain.timeout) } : {}),
    ...(spec.volumes?.length
      ? { VolumeMounts: spec.volumes.map((v) => ({ Volume: v.name, Destination: v.mount, ReadOnly: v.readOnly ?? false })) }
      : {}),
  };
}

/** Every declared volume (the reference Norn kept only the last one, which Nomad then rejects). */
function volumes(spec: AppSpec): { Volumes?: Record<string, NomadVolumeRequest> } {
  if (!spec.volumes?.length) return {};
  const sorted = [...spec.volumes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    Volumes: Object.fromEntries(
      sorted.map((v) => [v.name, { Name: v.name, Type: 'host', Source: v.name, ReadOnly: v.readOnly ?? false }]),
    ),
  };
}

/** Ports, the Consul service with its health check, and the metrics service of one service process. */
function networking(spec: AppSpec, name: string, proc: Process) {
  const network: { ReservedPorts: NomadPort[]; DynamicPorts: NomadPort[] } = { ReservedPorts: [], DynamicPorts: [] };
  const services: NomadService[] = [];
  const labels: string[] = [];
  const httpLabel = `${name}-http`;
  if (proc.port !== undefined) {
    labels.push(httpLabel);
    // cloudflared routes endpoints to a fixed host port, so apps with endpoints reserve theirs.
    if (spec.endpoints?.length) network.ReservedPorts.push({ Label: httpLabel, Value: proc.port, To: proc.port });
    else network.DynamicPorts.push({ Label: httpLabel, To: proc.port });
    services.push({
      Name: `${spec.name}-${name}`,
      PortLabel: httpLabel,
      Provider: 'consul',
      ...(proc.health
        ? { Checks: [{ Type: 'http', Path: proc.health.path, Interval: ns(proc.health.interval), Timeout: ns(proc.health.timeout) }] }
        : {}),
    });
  }
  if (proc.metrics.enabled) {
    const port = proc.metrics.port ?? proc.port!;
    let label = httpLabel;
    if (port !== proc.port) {
      label = `${name}-metrics`;
      labels.push(label);
      network.DynamicPorts.push({ Label: label, To: port });
    }
    services.push({
      Name: `${spec.name}-${name}-metrics`,
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
