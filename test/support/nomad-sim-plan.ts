// Part of the Nomad simulator (a test double): the plan endpoint. It validates like registration, counts what
// the scheduler would do per task group, and returns a diff in the shape of Nomad's JobDiff (fields flattened to
// dotted names, which is coarser than Nomad's nested objects but says the same thing).
import type { NomadDesiredUpdates, NomadJob, NomadPlanResponse } from '../../src/integrations/nomad/nomad-types.js';
import type { SimCluster } from './nomad-sim-cluster.js';
import { SimHttpError } from './nomad-sim-cluster.js';
import type { NomadSimScenario } from './nomad-sim-driver.js';
import { canonicalizeJob, multiError, specFingerprint, validateJob } from './nomad-sim-jobspec.js';

type DiffType = 'Added' | 'Deleted' | 'Edited' | 'None';
interface FieldDiff {
  Type: DiffType;
  Name: string;
  Old: string;
  New: string;
  Annotations: null;
}

const SERVER_FIELDS = new Set(['Stop', 'Status', 'StatusDescription', 'Stable', 'Version', 'SubmitTime', 'CreateIndex', 'ModifyIndex', 'JobModifyIndex', 'TaskGroups']);

export function planJob(
  cluster: SimCluster,
  input: NomadJob,
  namespace: string,
  withDiff: boolean,
  scenarioFor: (jobId: string, images: string[]) => NomadSimScenario,
): NomadPlanResponse {
  const job = canonicalizeJob(input, namespace);
  const errors = validateJob(job);
  if (errors.length > 0) throw new SimHttpError(500, multiError(errors));
  const current = cluster.currentJob(namespace, job.ID);
  const live = cluster.jobAllocs(namespace, job.ID).filter((a) => a.DesiredStatus === 'run');
  const changed = !current || current.Stop || specFingerprint({ ...current, Namespace: namespace }) !== specFingerprint(job);
  const updates: Record<string, NomadDesiredUpdates> = {};
  const failed: NomadPlanResponse['FailedTGAllocs'] = {};
  for (const g of job.TaskGroups) {
    const existing = live.filter((a) => a.TaskGroup === g.Name).length;
    const u: NomadDesiredUpdates = { Ignore: 0, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0 };
    if (!changed) u.Ignore = Math.min(existing, g.Count);
    else if (existing > 0 && (g.Update?.Canary ?? 0) > 0) u.Canary = g.Update!.Canary!;
    else u.DestructiveUpdate = Math.min(existing, g.Count);
    u.Place = Math.max(0, g.Count - existing);
    u.Stop = Math.max(0, existing - g.Count);
    updates[g.Name] = u;
    if (u.Place + u.DestructiveUpdate > 0 && scenarioFor(job.ID, g.Tasks.map((t) => String(t.Config?.image ?? ''))) === 'placement-failure') {
      failed[g.Name] = { NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: { memory: 1 }, CoalescedFailures: Math.max(0, g.Count - 1) };
    }
  }
  for (const name of new Set(live.map((a) => a.TaskGroup))) {
    if (!job.TaskGroups.some((g) => g.Name === name)) {
      updates[name] = { Ignore: 0, Place: 0, Migrate: 0, Stop: live.filter((a) => a.TaskGroup === name).length, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0 };
    }
  }
  return {
    Annotations: { DesiredTGUpdates: updates },
    FailedTGAllocs: Object.keys(failed).length > 0 ? failed : null,
    JobModifyIndex: current?.JobModifyIndex ?? 0,
    CreatedEvals: null,
    Diff: withDiff ? jobDiff(current, job) : null,
    Warnings: '',
    Index: cluster.index,
  };
}

function jobDiff(old: NomadJob | undefined, next: NomadJob): Record<string, unknown> {
  const fields = diffFields(old && topLevel(old), topLevel(next));
  const names = [...new Set([...(old?.TaskGroups ?? []), ...next.TaskGroups].map((g) => g.Name))].sort();
  const TaskGroups = names.map((name) => {
    const before = old?.TaskGroups.find((g) => g.Name === name);
    const after = next.TaskGroups.find((g) => g.Name === name);
    const groupFields = diffFields(before && { ...before, Tasks: undefined }, after && { ...after, Tasks: undefined });
    const taskNames = [...new Set([...(before?.Tasks ?? []), ...(after?.Tasks ?? [])].map((t) => t.Name))].sort();
    const Tasks = taskNames.map((t) => {
      const tf = diffFields(before?.Tasks.find((x) => x.Name === t), after?.Tasks.find((x) => x.Name === t));
      return { Type: kind(before?.Tasks.some((x) => x.Name === t), after?.Tasks.some((x) => x.Name === t), tf), Name: t, Fields: tf, Objects: null };
    });
    const edited = groupFields.length > 0 || Tasks.some((t) => t.Type !== 'None');
    return { Type: kind(!!before, !!after, edited ? [1] : []), Name: name, Fields: groupFields, Objects: null, Tasks, Updates: null };
  });
  const edited = fields.length > 0 || TaskGroups.some((g) => g.Type !== 'None');
  return { Type: kind(!!old && !old.Stop, true, edited ? [1] : []), ID: next.ID, Fields: fields, Objects: null, TaskGroups };
}

function kind(before: boolean | undefined, after: boolean | undefined, changes: unknown[]): DiffType {
  if (!before) return 'Added';
  if (!after) return 'Deleted';
  return changes.length > 0 ? 'Edited' : 'None';
}

function topLevel(job: NomadJob): Record<string, unknown> {
  return Object.fromEntries(Object.entries(job).filter(([k]) => !SERVER_FIELDS.has(k)));
}

function diffFields(before: object | undefined, after: object | undefined): FieldDiff[] {
  const a = flatten(before ?? {});
  const b = flatten(after ?? {});
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names.flatMap((name): FieldDiff[] => {
    const Old = a.get(name) ?? '';
    const New = b.get(name) ?? '';
    if (Old === New) return [];
    return [{ Type: !a.has(name) ? 'Added' : !b.has(name) ? 'Deleted' : 'Edited', Name: name, Old, New, Annotations: null }];
  });
}

function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value === null || value === undefined) return out;
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, String(value));
  }
  return out;
}
