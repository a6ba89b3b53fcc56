// Which saga events become commit statuses, and what they say. Everything else (progress lines, step.complete,
// and the outbox's own status.* events) maps to nothing, so reporting a status never enqueues another.
import type { DeployKind } from '../events/deploy-queued.js';
import type { SagaAction } from '../events/saga-actions.js';
import type { SagaEvent } from '../events/saga-event.js';
import type { StatusState } from '../integrations/forge-status/status-client.js';

export interface StatusUpdate {
  readonly state: StatusState;
  readonly description: string;
}

const STATUS_ACTIONS = new Set<SagaAction>(['deploy.queued', 'step.start', 'deploy.complete', 'deploy.failed', 'deploy.superseded', 'deploy.interrupted']);

/** Whether events with this action can produce a commit status (status.* never do). */
export function isStatusAction(action: SagaAction): boolean {
  return STATUS_ACTIONS.has(action);
}

export function statusForEvent(e: SagaEvent, kind: DeployKind): StatusUpdate | undefined {
  if (!isStatusAction(e.action)) return undefined;
  const m = e.metadata;
  const step = typeof m.step === 'string' ? m.step : undefined;
  switch (e.action) {
    case 'deploy.queued':
      return { state: 'pending', description: 'queued' };
    case 'step.start':
      return { state: 'running', description: typeof m.index === 'number' && typeof m.total === 'number' ? `${step} ${m.index}/${m.total}` : `${step}` };
    case 'deploy.complete':
      // Live but not routed is still a success (the new version runs), and the description says what is missing.
      if (typeof m.notRouted === 'string') return { state: 'success', description: `live, not routed: ${m.notRouted}` };
      return { state: 'success', description: succeeded(kind, typeof m.durationMs === 'number' ? m.durationMs : undefined) };
    case 'deploy.failed':
      // The runner's message reads "<step> failed: <error>"; a failure outside any step has no step to name.
      return { state: 'failure', description: step && !e.message.startsWith(step) ? `${step}: ${e.message}` : e.message };
    case 'deploy.superseded':
      return { state: 'error', description: 'superseded by a newer push' };
    case 'deploy.interrupted':
      return { state: 'error', description: step ? `interrupted during ${step}` : 'interrupted' };
    default:
      return undefined;
  }
}

function succeeded(kind: DeployKind, durationMs: number | undefined): string {
  const what = kind === 'preflight' ? 'preflight passed' : kind === 'rollback' ? 'deployed again by a rollback' : 'deployed';
  return durationMs === undefined ? what : `${what} in ${(durationMs / 1000).toFixed(1)}s`;
}
