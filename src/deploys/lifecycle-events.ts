// The saga events of a deploy's life, as pure functions of the deploy and what happened: their wording and
// metadata are published (the feed, the CLI, the dashboard and commit statuses read them). Only the deploy
// lifecycle (deploy-lifecycle.ts) appends them.
import type { DeployQueuedMetadata } from '../events/deploy-queued.js';
import type { NewSagaEvent } from '../events/saga-event.js';
import type { PipelineOutcome, StepEnd } from '../pipeline/run-pipeline.js';
import { STEP_NAMES, type StepName, type StepProgress } from '../pipeline/step.js';
import type { DeployRecord } from './deploy-record.js';

type Deploy = Pick<DeployRecord, 'id' | 'app' | 'kind' | 'ref' | 'commitSha' | 'trigger' | 'prNumber' | 'forge' | 'repoFullName'>;

const short = (sha: string) => sha.slice(0, 12);

export function queuedEvent(d: Deploy): NewSagaEvent {
  const metadata: DeployQueuedMetadata = {
    ref: d.ref,
    commitSha: d.commitSha,
    trigger: d.trigger,
    kind: d.kind,
    prNumber: d.prNumber,
    forge: d.forge,
    repoFullName: d.repoFullName,
  };
  return {
    sagaId: d.id,
    source: 'receiver',
    app: d.app,
    category: 'deploy',
    action: 'deploy.queued',
    message: `${d.kind} of ${d.app} queued for ${short(d.commitSha)} (${d.ref})`,
    metadata: { ...metadata },
  };
}

export function supersededEvent(old: Pick<DeployRecord, 'id' | 'app' | 'commitSha'>, newest: Pick<DeployRecord, 'id' | 'commitSha'>): NewSagaEvent {
  return {
    sagaId: old.id,
    source: 'scheduler',
    app: old.app,
    category: 'deploy',
    action: 'deploy.superseded',
    message: `superseded by a newer push (${short(newest.commitSha)}, saga ${newest.id})`,
    metadata: { supersededBy: newest.id, commitSha: old.commitSha },
  };
}

/** deploy.start, then spec.warnings when the spec has parts this deploy leaves aside. */
export function startedEvents(d: Deploy, warnings: readonly { readonly path: string; readonly reason: string }[]): NewSagaEvent[] {
  const base = { sagaId: d.id, app: d.app, source: 'pipeline', category: 'deploy' } as const;
  const events: NewSagaEvent[] = [
    { ...base, action: 'deploy.start', message: `${d.kind} of ${d.app} at ${short(d.commitSha)} started`, metadata: { commitSha: d.commitSha, ref: d.ref } },
  ];
  if (warnings.length > 0) {
    const list = warnings.map((w) => `${w.path}: ${w.reason}`).join('; ');
    events.push({ ...base, action: 'spec.warnings', message: `spec of ${d.app}: ${warnings.length} warning(s): ${list}`, metadata: { warnings } });
  }
  return events;
}

/**
 * Where a step stands among the steps of its run (the feed and commit statuses show `build 2/9`; a preflight's
 * submit is 4/5, a rollback's 3/6).
 */
function position(step: StepName, steps: readonly StepName[]) {
  return { step, index: steps.indexOf(step) + 1, total: steps.length };
}

const stepBase = (d: Pick<DeployRecord, 'id' | 'app'>) => ({ sagaId: d.id, app: d.app, source: 'pipeline', category: 'step' }) as const;

export function stepStartedEvent(d: Pick<DeployRecord, 'id' | 'app'>, step: StepName, steps: readonly StepName[] = STEP_NAMES): NewSagaEvent {
  return { ...stepBase(d), action: 'step.start', message: `${step} started`, metadata: position(step, steps) };
}

export function stepProgressEvent(d: Pick<DeployRecord, 'id' | 'app'>, step: StepName, message: string, progress: StepProgress = {}): NewSagaEvent {
  return { ...stepBase(d), action: progress.action ?? 'step.progress', message, metadata: { ...progress.metadata, step } };
}

export function stepEndedEvent(d: Pick<DeployRecord, 'id' | 'app'>, step: StepName, end: StepEnd, steps: readonly StepName[] = STEP_NAMES): NewSagaEvent {
  const meta = { ...position(step, steps), durationMs: end.durationMs };
  switch (end.status) {
    case 'skipped':
      return { ...stepBase(d), action: 'step.skipped', message: `${step} skipped: ${end.reason}`, metadata: { ...meta, reason: end.reason } };
    case 'complete':
      return { ...stepBase(d), action: 'step.complete', message: end.message ?? `${step} complete`, metadata: meta };
    case 'failed':
      return {
        ...stepBase(d),
        action: 'step.failed',
        message: `${step} failed: ${end.error}`,
        metadata: { ...meta, error: end.error, ...(end.detail ? { detail: end.detail } : {}) },
      };
  }
}

/** The last event of a deploy whose pipeline ran, and what its record keeps. */
export function finishedEvent(d: Deploy, outcome: PipelineOutcome): { event: NewSagaEvent; record: { status: 'succeeded' | 'failed' | 'interrupted'; error: string | null; imageTag: string | null } } {
  const base = { sagaId: d.id, app: d.app, source: 'pipeline', category: 'deploy' } as const;
  const imageTag = outcome.outputs.imageTag ?? null;
  const { durationMs } = outcome;
  if (outcome.status === 'succeeded') {
    // Set by the forge step when the app is live but its hostnames are not routed (no cloudflared config).
    const { notRouted } = outcome.outputs;
    const routing = notRouted ? ` (live, not routed: ${notRouted})` : '';
    return {
      event: {
        ...base,
        action: 'deploy.complete',
        message: `${d.kind} of ${d.app} succeeded in ${(durationMs / 1000).toFixed(1)}s${routing}`,
        metadata: { imageTag, durationMs, ...(notRouted ? { notRouted } : {}) },
      },
      record: { status: 'succeeded', error: null, imageTag },
    };
  }
  return {
    event: {
      ...base,
      action: outcome.status === 'interrupted' ? 'deploy.interrupted' : 'deploy.failed',
      message: `${outcome.step} failed: ${outcome.error}`,
      metadata: { step: outcome.step, durationMs },
    },
    record: { status: outcome.status, error: `${outcome.step}: ${outcome.error}`, imageTag },
  };
}

/** A deploy that failed before any step ran (its app left the apps dir, or its spec became invalid). */
export function failedUnstartedEvent(d: Pick<DeployRecord, 'id' | 'app'>, error: string): NewSagaEvent {
  return { sagaId: d.id, app: d.app, source: 'scheduler', category: 'deploy', action: 'deploy.failed', message: error, metadata: { step: null } };
}

/** A deploy whose process stopped while it ran (found by the scheduler's recovery). */
export function interruptedEvent(d: Pick<DeployRecord, 'id' | 'app' | 'currentStep' | 'leaseOwner'>): NewSagaEvent {
  return {
    sagaId: d.id,
    app: d.app,
    source: 'scheduler',
    category: 'deploy',
    action: 'deploy.interrupted',
    message: `interrupted${d.currentStep ? ` during ${d.currentStep}` : ''}: the process running this deploy stopped`,
    metadata: { step: d.currentStep, leaseOwner: d.leaseOwner },
  };
}
