// Part of the Nomad simulator (a test double): how Nomad's server canonicalizes and validates a registered job.
// Defaults and messages follow docs/nomad-api.md section 1 ("Server defaults", "Validation errors are HTTP 500").
import type { NomadJob, NomadPeriodic, NomadTaskGroup, NomadUpdateStrategy } from '../../src/integrations/nomad/nomad-types.js';

const S = 1e9; // nanoseconds in a second
const M = 60 * S;

const UPDATE_DEFAULTS: Required<{ [K in keyof NomadUpdateStrategy]: NonNullable<NomadUpdateStrategy[K]> }> = {
  Stagger: 30 * S,
  MaxParallel: 1,
  HealthCheck: 'checks',
  MinHealthyTime: 10 * S,
  HealthyDeadline: 5 * M,
  ProgressDeadline: 10 * M,
  AutoRevert: false,
  AutoPromote: false,
  Canary: 0,
};

/** Nomad's service-job reschedule default: unlimited, exponential from 30s up to 1h. */
export const SERVICE_RESCHEDULE = { Attempts: 0, Interval: 0, Delay: 30 * S, DelayFunction: 'exponential', MaxDelay: 60 * M, Unlimited: true };

/** Fields the server owns; they take no part in "did the spec change?". */
const SERVER_FIELDS = ['Stop', 'Status', 'StatusDescription', 'Stable', 'Version', 'SubmitTime', 'CreateIndex', 'ModifyIndex', 'JobModifyIndex'];

/** A copy of the job with the server's defaults filled in (nulls count as unset, as the Go client sends them). */
export function canonicalizeJob(input: NomadJob, namespace: string): NomadJob {
  const job = structuredClone(input);
  const type = job.Type ?? 'service';
  const withoutNulls = <T extends object>(o: T | null | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
  const out: NomadJob = {
    ...job,
    Name: job.Name || job.ID,
    Namespace: namespace,
    Region: job.Region || 'global',
    Type: type,
    Priority: job.Priority || 50,
    Datacenters: job.Datacenters?.length ? job.Datacenters : ['*'],
    Periodic: job.Periodic
      ? ({ Enabled: true, SpecType: 'cron', ProhibitOverlap: false, TimeZone: 'UTC', ...withoutNulls(job.Periodic) } as NomadPeriodic)
      : null,
    ParameterizedJob: job.ParameterizedJob ? { Payload: 'optional', MetaRequired: null, MetaOptional: null, ...withoutNulls(job.ParameterizedJob) } : null,
  };
  const restartDefaults =
    type === 'batch' || type === 'sysbatch'
      ? { Attempts: 3, Interval: 24 * 60 * M, Delay: 15 * S, Mode: 'fail' as const }
      : { Attempts: 2, Interval: 30 * M, Delay: 15 * S, Mode: 'fail' as const };
  out.TaskGroups = (job.TaskGroups ?? []).map((g): NomadTaskGroup => ({
    ...g,
    Count: g.Count ?? 1,
    RestartPolicy: { ...restartDefaults, ...withoutNulls(g.RestartPolicy) },
    ReschedulePolicy: type === 'service' ? { ...SERVICE_RESCHEDULE, ...withoutNulls(g.ReschedulePolicy) } : g.ReschedulePolicy,
    Update: type === 'service' ? { ...UPDATE_DEFAULTS, ...withoutNulls(job.Update), ...withoutNulls(g.Update) } : null,
    Services: (g.Services ?? []).map((s) => ({ ...s, Provider: s.Provider ?? 'consul' })),
    Tasks: (g.Tasks ?? []).map((t) => ({
      ...t,
      Resources: { CPU: 100, MemoryMB: 300, ...withoutNulls(t.Resources) },
      KillTimeout: t.KillTimeout ?? 5 * S,
      Services: (t.Services ?? []).map((s) => ({ ...s, Provider: s.Provider ?? 'consul' })),
    })),
  }));
  return out;
}

/** The part of a stored job that decides whether a registration is a new version. */
export function specFingerprint(job: NomadJob): string {
  const copy: Record<string, unknown> = { ...job };
  for (const field of SERVER_FIELDS) delete copy[field];
  return stableJson(copy);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** go-multierror's list format, the body Nomad sends for a failed validation. */
export function multiError(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}

/** Validation problems of a canonical job, as Nomad words them; empty when valid. */
export function validateJob(job: NomadJob): string[] {
  const errors: string[] = [];
  if (!['service', 'batch', 'system', 'sysbatch'].includes(job.Type)) errors.push(`Invalid job type: "${job.Type}"`);
  if (job.TaskGroups.length === 0) errors.push('Missing job task groups');
  if (job.ParameterizedJob) {
    if (job.Type !== 'batch' && job.Type !== 'sysbatch') errors.push('Parameterized job can only be used with "batch" or "sysbatch" scheduler');
    if (!['optional', 'required', 'forbidden'].includes(job.ParameterizedJob.Payload)) errors.push(`Unknown payload requirement: "${job.ParameterizedJob.Payload}"`);
  }
  if (job.Periodic) {
    if (job.Type !== 'batch' && job.Type !== 'sysbatch') {
      errors.push('Periodic can only be used with "batch" or "sysbatch" scheduler');
    }
    if (!job.Periodic.Spec) errors.push('Periodic job must specify a spec');
    const tz = job.Periodic.TimeZone;
    if (tz && !isTimeZone(tz)) errors.push(`Invalid time zone "${tz}": unknown time zone ${tz}`);
  }
  const seen = new Map<string, number>();
  job.TaskGroups.forEach((g, i) => {
    const first = seen.get(g.Name);
    if (first !== undefined) errors.push(`Job task group ${i + 1} redefines '${g.Name}' from group ${first + 1}`);
    seen.set(g.Name, i);
    const groupErrors = validateGroup(g);
    if (groupErrors.length > 0) errors.push(`Task group ${g.Name} validation failed: ${multiError(groupErrors)}`);
  });
  return errors;
}

function validateGroup(g: NomadTaskGroup): string[] {
  const errors: string[] = [];
  if (g.Count < 0) errors.push('Task group count can\'t be negative');
  if (g.Tasks.length === 0) errors.push('Missing tasks for task group');
  const labels = new Set((g.Networks ?? []).flatMap((n) => [...(n.ReservedPorts ?? []), ...(n.DynamicPorts ?? [])]).map((p) => p.Label));
  for (const service of [...(g.Services ?? []), ...g.Tasks.flatMap((t) => t.Services ?? [])]) {
    if (service.PortLabel && !labels.has(service.PortLabel) && !/^\d+$/.test(service.PortLabel)) {
      errors.push(`Port label "${service.PortLabel}" referenced by services ${service.Name} does not exist`);
    }
  }
  for (const t of g.Tasks) {
    const taskErrors: string[] = [];
    if (!t.Name) taskErrors.push('Missing task name');
    if (!t.Driver) taskErrors.push('Missing task driver');
    if ((t.Resources?.MemoryMB ?? 300) < 10) taskErrors.push(`minimum MemoryMB value is 10; got ${t.Resources?.MemoryMB}`);
    if ((t.Resources?.CPU ?? 100) < 1) taskErrors.push(`minimum CPU value is 1; got ${t.Resources?.CPU}`);
    (t.VolumeMounts ?? []).forEach((m, i) => {
      if (!g.Volumes?.[m.Volume]) taskErrors.push(`Volume Mount (${i}) references undefined volume ${m.Volume}`);
    });
    if (taskErrors.length > 0) errors.push(`Task ${t.Name} validation failed: ${multiError(taskErrors)}`);
  }
  return errors;
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
