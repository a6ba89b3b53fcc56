// The saga log's record and the WebSocket envelope derived from it (DESIGN.md "Events").
import type { SagaAction, StepTransitionAction } from './saga-actions.js';

export interface SagaEvent {
  readonly id: string;
  readonly sagaId: string;
  /** Position in the log; monotonic across the whole store. */
  readonly seq: number;
  readonly timestamp: string;
  readonly source: string;
  readonly app: string;
  readonly category: string;
  readonly action: SagaAction;
  readonly message: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type NewSagaEvent = Omit<SagaEvent, 'id' | 'seq' | 'timestamp'> & { readonly timestamp?: string };

export type EnvelopeType = 'deploy.queued' | 'deploy.step' | 'deploy.progress' | 'deploy.completed' | 'deploy.failed';

export interface Envelope {
  readonly type: EnvelopeType;
  readonly appId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly seq: number;
}

/**
 * The live-stream form of a saga event. Step transitions become `deploy.step`; the end of a deploy
 * `deploy.completed` or `deploy.failed` (superseded and interrupted deploys end as failed, with `reason`);
 * everything else in a saga is a `deploy.progress` line, so a client sees the whole log.
 */
export function toEnvelope(e: SagaEvent): Envelope {
  const m = e.metadata;
  const base = { sagaId: e.sagaId };
  switch (e.action) {
    case 'deploy.queued':
      return env(e, 'deploy.queued', { ...base, ref: m.ref, commitSha: m.commitSha, trigger: m.trigger, kind: m.kind });
    case 'step.start':
    case 'step.complete':
    case 'step.failed':
    case 'step.skipped':
      return env(e, 'deploy.step', {
        ...base,
        step: m.step,
        status: STEP_STATUS[e.action],
        index: m.index,
        total: m.total,
        durationMs: m.durationMs ?? null,
        message: e.message,
      });
    case 'deploy.complete':
      return env(e, 'deploy.completed', { ...base, imageTag: m.imageTag ?? null, durationMs: m.durationMs ?? null, notRouted: m.notRouted ?? null });
    case 'deploy.failed':
    case 'deploy.superseded':
    case 'deploy.interrupted':
      return env(e, 'deploy.failed', {
        ...base,
        step: m.step ?? null,
        error: e.message,
        reason: e.action === 'deploy.failed' ? 'failed' : e.action.slice('deploy.'.length),
      });
    default:
      return env(e, 'deploy.progress', { ...base, step: m.step ?? null, action: e.action, message: e.message });
  }
}

const STEP_STATUS: Record<StepTransitionAction, string> = {
  'step.start': 'running',
  'step.complete': 'complete',
  'step.failed': 'failed',
  'step.skipped': 'skipped',
};

function env(e: SagaEvent, type: EnvelopeType, payload: Record<string, unknown>): Envelope {
  return { type, appId: e.app, payload, seq: e.seq };
}
