// infraspec -> what runs, decided once for every runtime: which processes run and how (service, scheduled,
// function), how many instances, their command, environment (PORT, DATABASE_URL, decrypted secrets), resources,
// drain signal and timeout, volumes and health check. The Nomad translator and the Docker runtime render this
// plan; neither re-reads those fields of the spec. Pure and deterministic: processes, env and volumes come out
// sorted (volumes keep the spec's order), so the same spec and image always give the same plan.
import { parseGoDuration } from '../apps/go-duration.js';
import { type AppSpec, type Process, type ProcessKind, processKind } from '../apps/infraspec-schema.js';
import { processEnv } from './process-env.js';

export interface PlanInput {
  spec: AppSpec;
  image: string;
  /** Decrypted secrets (flattened to env names); they override every other env source. */
  secrets: Readonly<Record<string, string>>;
  /** NORN_APP_POSTGRES_URL, for DATABASE_URL of apps with infrastructure.postgres. */
  appPostgresUrl?: string;
}

export interface PlannedHealthCheck {
  path: string;
  intervalMs: number;
  timeoutMs: number;
}

export interface PlannedVolume {
  /** The spec's volume name (Nomad: host volume; Docker: named volume `<app>-<name>`). */
  name: string;
  mount: string;
  readOnly: boolean;
}

export interface PlannedProcess {
  name: string;
  kind: ProcessKind;
  /** Instances to run: `scaling.min`, at least one (a scale of zero is not a deploy). */
  count: number;
  /** The spec's command, run as `/bin/sh -c <command>`; undefined keeps the image's CMD. */
  command?: string;
  /** Sorted keys; includes PORT when the process listens. */
  env: Record<string, string>;
  port?: number;
  health?: PlannedHealthCheck;
  metrics?: { path: string; port: number };
  cpuMhz: number;
  memoryMb: number;
  drain: { signal: string; timeoutMs?: number };
  canary?: { count: number };
  /** Scheduled processes: the cron spec and the time zone it is read in. */
  schedule?: { cron: string; timeZone?: string };
  /** Function processes: limit of one invocation, and its memory (MB) when it differs from `memoryMb`. */
  function?: { timeoutMs?: number; memoryMb?: number };
}

export interface AppPlan {
  app: string;
  image: string;
  /** Every process, sorted by name. */
  processes: PlannedProcess[];
  /** In the order the spec declares them (mount order). */
  volumes: PlannedVolume[];
  /** Env keys holding secret values, so anything shown to a person can be redacted. */
  secretEnvKeys: string[];
}

export function planApp(input: PlanInput): AppPlan {
  const { spec } = input;
  const secretEnvKeys = new Set<string>();
  const processes = Object.keys(spec.processes)
    .sort()
    .map((name) => {
      const proc = spec.processes[name]!;
      const { env, secretKeys } = processEnv({ spec, proc, secrets: input.secrets, appPostgresUrl: input.appPostgresUrl });
      secretKeys.forEach((k) => secretEnvKeys.add(k));
      return planProcess(spec, name, proc, env);
    });
  const volumes = (spec.volumes ?? []).map((v) => ({ name: v.name, mount: v.mount, readOnly: v.readOnly ?? false }));
  return { app: spec.name, image: input.image, processes, volumes, secretEnvKeys: [...secretEnvKeys].sort() };
}

function planProcess(spec: AppSpec, name: string, proc: Process, env: Record<string, string>): PlannedProcess {
  const kind = processKind(proc);
  const planned: PlannedProcess = {
    name,
    kind,
    count: proc.scaling.min > 0 ? proc.scaling.min : 1,
    env,
    cpuMhz: proc.resources.cpu,
    memoryMb: proc.resources.memory,
    drain: { signal: proc.drain.signal, ...(proc.drain.timeout ? { timeoutMs: parseGoDuration(proc.drain.timeout) } : {}) },
  };
  if (proc.command) planned.command = proc.command;
  if (proc.port !== undefined) planned.port = proc.port;
  if (proc.health) {
    planned.health = { path: proc.health.path, intervalMs: parseGoDuration(proc.health.interval), timeoutMs: parseGoDuration(proc.health.timeout) };
  }
  if (proc.metrics.enabled) planned.metrics = { path: proc.metrics.path, port: proc.metrics.port ?? proc.port! };
  if (proc.canary) planned.canary = { count: proc.canary.count };
  if (kind === 'scheduled') {
    const timeZone = proc.timezone ?? proc.env?.TZ ?? spec.env?.TZ;
    planned.schedule = { cron: proc.schedule!, ...(timeZone ? { timeZone } : {}) };
  }
  if (kind === 'function') {
    const fn = proc.function!;
    planned.function = { ...(fn.timeout ? { timeoutMs: parseGoDuration(fn.timeout) } : {}), ...(fn.memory ? { memoryMb: fn.memory } : {}) };
  }
  return planned;
}
