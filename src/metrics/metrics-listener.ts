// Feeds the deploy and step metrics from the saga log (SagaLog.subscribe): events are announced once, after
// their transaction commits, so each ended step or deploy is counted once.
import type { SagaEvent } from '../events/saga-event.js';
import type { SagaListener } from '../events/saga-log.js';
import type { NornMetrics } from './create-metrics.js';

const STEP_END: Record<string, string> = { 'step.complete': 'complete', 'step.failed': 'failed', 'step.skipped': 'skipped' };
const DEPLOY_END: Record<string, string> = {
  'deploy.complete': 'succeeded',
  'deploy.failed': 'failed',
  'deploy.superseded': 'superseded',
  'deploy.interrupted': 'interrupted',
};

export function metricsListener(metrics: Pick<NornMetrics, 'recordDeployEnd' | 'observeStep'>): SagaListener {
  return (events: readonly SagaEvent[]) => {
    for (const e of events) {
      const stepStatus = STEP_END[e.action];
      const { step, durationMs } = e.metadata;
      if (stepStatus && typeof step === 'string' && typeof durationMs === 'number') metrics.observeStep(step, stepStatus, durationMs / 1000);
      const outcome = DEPLOY_END[e.action];
      if (outcome) metrics.recordDeployEnd(e.app, outcome);
    }
  };
}
