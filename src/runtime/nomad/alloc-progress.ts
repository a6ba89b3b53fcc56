// What an allocation is doing, in the words a person deploying wants: placed, running, healthy, unhealthy... plus
// the task event that explains it. AllocTracker turns successive allocation lists into one change per transition.
import type { NomadAllocationStub, NomadTaskEvent } from '../../integrations/nomad/nomad-types.js';

export type AllocPhase = 'placed' | 'running' | 'restarting' | 'healthy' | 'unhealthy' | 'failed' | 'stopped';

export interface AllocChange {
  allocId: string;
  /** e.g. "shop.web[0]" */
  name: string;
  taskGroup: string;
  jobVersion: number;
  phase: AllocPhase;
  /** "Type: message" of the latest task event, if any. */
  event?: string;
}

export function allocPhase(a: NomadAllocationStub): AllocPhase {
  if (a.ClientStatus === 'failed') return 'failed';
  if (a.DeploymentStatus?.Healthy === false) return 'unhealthy';
  if (a.DesiredStatus !== 'run' || a.ClientStatus === 'complete' || a.ClientStatus === 'lost') return 'stopped';
  if (a.DeploymentStatus?.Healthy === true) return 'healthy';
  if (a.ClientStatus === 'running') return 'running';
  const restarted = Object.values(a.TaskStates ?? {}).some((t) => t.Restarts > 0);
  return restarted ? 'restarting' : 'placed';
}

function events(a: NomadAllocationStub): NomadTaskEvent[] {
  return Object.values(a.TaskStates ?? {})
    .flatMap((t) => t.Events ?? [])
    .sort((x, y) => x.Time - y.Time);
}

export function describeEvent(e: NomadTaskEvent): string {
  const text = e.DisplayMessage || e.Message || '';
  if (e.Type === 'Terminated' && e.Details?.oom_killed === 'true') return `Terminated: OOM killed (${text || 'out of memory'})`;
  return text ? `${e.Type}: ${text}` : e.Type;
}

/** Events of stopping an allocation: they follow the reason it was unhealthy and would hide it. */
const STOPPING = new Set(['Killing', 'Killed']);

/**
 * The latest task event that says something (a later kill hides nothing), plus what made the task stop: its last
 * exit or driver failure or, for a task that never started, the driver's last message (an image pull).
 */
export function explainAlloc(a: NomadAllocationStub): string | undefined {
  const all = events(a);
  const latest = [...all].reverse().find((e) => !STOPPING.has(e.Type)) ?? all.at(-1);
  if (!latest) return undefined;
  const exit = all.findLast((e) => e.Type === 'Terminated' || e.Type === 'Driver Failure');
  const stuck = all.some((e) => e.Type === 'Started') ? undefined : all.findLast((e) => e.Type === 'Driver');
  const cause = exit ?? stuck;
  const described = describeEvent(latest);
  return cause && cause !== latest ? `${described} (last ${describeEvent(cause)})` : described;
}

export function toChange(a: NomadAllocationStub): AllocChange {
  const latest = events(a).at(-1);
  return {
    allocId: a.ID,
    name: a.Name,
    taskGroup: a.TaskGroup,
    jobVersion: a.JobVersion,
    phase: allocPhase(a),
    ...(latest ? { event: describeEvent(latest) } : {}),
  };
}

/** Remembers each allocation's phase and calls `onChange` when one is new or moves to another phase. */
export class AllocTracker {
  private readonly phases = new Map<string, AllocPhase>();

  constructor(private readonly onChange: (change: AllocChange) => void) {}

  update(allocs: readonly NomadAllocationStub[]): void {
    for (const a of [...allocs].sort((x, y) => x.CreateIndex - y.CreateIndex)) {
      const change = toChange(a);
      if (this.phases.get(a.ID) === change.phase) continue;
      this.phases.set(a.ID, change.phase);
      this.onChange(change);
    }
  }
}
