// How `norn plan` reads: for each job, what Nomad would do (`nomad job plan`'s summary: created, changed or
// unchanged; per task group the allocations placed, replaced, stopped; placements that would fail) and which
// fields change.
import type { NomadPlanResponse, PlanAnswer } from './ops-api-types.js';

const IMAGE_SOURCES: Record<PlanAnswer['imageSource'], string> = {
  query: 'as given',
  'last-deploy': 'from the last succeeded deploy',
  spec: 'from the spec',
};

export function planHeader(answer: PlanAnswer): string {
  const redacted = answer.secretEnvKeys.length > 0 ? `; secret env values shown as <redacted> (${answer.secretEnvKeys.join(', ')})` : '';
  return `${answer.jobs.length} job(s) for ${answer.app} with image ${answer.image} (${IMAGE_SOURCES[answer.imageSource]})${redacted}`;
}

/** The plan summary; [] when there is no plan (see planError). */
export function planLines(answer: PlanAnswer): string[] {
  if (!answer.plan) return [];
  if (answer.plan.length === 0) return ['Nomad plan: nothing to register (no service or scheduled process)'];
  const lines = ['Nomad plan:'];
  for (const { jobId, result } of answer.plan) lines.push(...jobPlanLines(jobId, result));
  return lines;
}

const VERDICTS: Record<string, [string, string]> = {
  Added: ['+', 'would be created'],
  Edited: ['~', 'would change'],
  Deleted: ['-', 'would be removed'],
  None: ['=', 'unchanged'],
};

function jobPlanLines(jobId: string, result: NomadPlanResponse): string[] {
  const type = typeof result.Diff?.Type === 'string' ? result.Diff.Type : 'None';
  const [sign, verdict] = VERDICTS[type] ?? ['?', type];
  const lines = [`${sign} job ${jobId}: ${verdict}`];
  for (const [group, u] of Object.entries(result.Annotations?.DesiredTGUpdates ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const counts = UPDATE_WORDS.filter(([k]) => u[k] > 0).map(([k, word]) => `${u[k]} ${word}`);
    lines.push(`    group ${group}: ${counts.join(', ') || 'nothing to do'}`);
  }
  if (type === 'Edited') lines.push(...diffLines(result.Diff).map((l) => `    ${l}`));
  for (const [group, m] of Object.entries(result.FailedTGAllocs ?? {})) {
    const dims = Object.entries(m.DimensionExhausted ?? {}).map(([d, n]) => `${d} on ${n}`);
    lines.push(`    ✗ group ${group}: placement would fail (${m.NodesExhausted ?? 0} of ${m.NodesEvaluated ?? 0} node(s) exhausted${dims.length ? `: ${dims.join(', ')}` : ''})`);
  }
  for (const w of (result.Warnings ?? '').split('\n').map((s) => s.trim()).filter(Boolean)) lines.push(`    warning: ${w}`);
  return lines;
}

type UpdateKey = keyof NonNullable<NonNullable<NomadPlanResponse['Annotations']>['DesiredTGUpdates']>[string];

const UPDATE_WORDS: readonly [UpdateKey, string][] = [
  ['Place', 'create'],
  ['DestructiveUpdate', 'create/destroy update'],
  ['InPlaceUpdate', 'in-place update'],
  ['Canary', 'canary'],
  ['Stop', 'destroy'],
  ['Migrate', 'migrate'],
  ['Preemptions', 'preemption'],
  ['Ignore', 'ignore'],
];

interface DiffNode {
  Type?: string;
  Name?: string;
  Old?: string;
  New?: string;
  Fields?: DiffNode[] | null;
  Objects?: DiffNode[] | null;
  TaskGroups?: DiffNode[] | null;
  Tasks?: DiffNode[] | null;
}

/** The changed fields of an edited job, each `<sign> <where>: <field>: <old> => <new>`; added parts are named, not listed. */
export function diffLines(diff: unknown): string[] {
  const out: string[] = [];
  const where = (path: string[]) => (path.length ? `${path.join(' › ')}: ` : '');
  const walk = (node: DiffNode, path: string[]) => {
    for (const f of node.Fields ?? []) {
      if (f.Type === 'Edited') out.push(`~ ${where(path)}${f.Name}: ${JSON.stringify(f.Old)} => ${JSON.stringify(f.New)}`);
      else if (f.Type === 'Added') out.push(`+ ${where(path)}${f.Name}: ${JSON.stringify(f.New)}`);
      else if (f.Type === 'Deleted') out.push(`- ${where(path)}${f.Name}: ${JSON.stringify(f.Old)}`);
    }
    const parts = [
      ...(node.Objects ?? []).map((o) => [o, o.Name ?? '?'] as const),
      ...(node.TaskGroups ?? []).map((g) => [g, `group ${g.Name}`] as const),
      ...(node.Tasks ?? []).map((t) => [t, `task ${t.Name}`] as const),
    ];
    for (const [part, name] of parts) {
      if (part.Type === 'Edited') walk(part, [...path, name]);
      else if (part.Type === 'Added') out.push(`+ ${[...path, name].join(' › ')} added`);
      else if (part.Type === 'Deleted') out.push(`- ${[...path, name].join(' › ')} removed`);
    }
  };
  if (diff && typeof diff === 'object') walk(diff as DiffNode, []);
  return out;
}
