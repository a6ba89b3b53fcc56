// Step 7: the health gate. It follows the deployment this registration created until Nomad calls it successful,
// reporting every allocation change as progress. A failed or cancelled deployment, or one still running at the
// deadline, fails the step, and so does a Nomad auto-revert (the new version did not come up). When Nomad did not
// revert and the spec allows it, the last good image is registered again (deployPolicy.autoRollback).
import { setTimeout as delay } from 'node:timers/promises';
import { parseGoDuration } from '../../apps/go-duration.js';
import { StepFailedError } from '../../errors.js';
import type { AllocChange } from '../../integrations/nomad/alloc-progress.js';
import { type WatchConfig, type WatchNomad, type WatchOutcome, watchRegistration } from '../../integrations/nomad/watch-registration.js';
import { done, skipped, type Step, type StepContext } from '../step.js';
import type { Submission, SubmitContext } from './submit.js';
import { prebuiltImage } from '../../apps/infraspec-schema.js';

export interface HealthyConfig extends WatchConfig {
  /** How long to follow a deployment before failing the step. */
  deadlineMs: number;
  /** How long to follow the rollback deployment after an autoRollback (default: deadlineMs). */
  rollbackDeadlineMs?: number;
}

export interface HealthyDeps {
  nomad: WatchNomad;
  /** The image of the app's last successful deploy. */
  lastGoodImage(app: string): Promise<string | undefined>;
  /** Registers the app's jobs again with another image (submit's `submitJobs`). */
  resubmit(ctx: SubmitContext, image: string): Promise<Submission>;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  now?(): number;
}

/** Norn v2's default observation window for canaries before it promotes them. */
const DEFAULT_CANARY_WINDOW = '2m';

export function healthyStep(config: HealthyConfig, deps: HealthyDeps): Step {
  const sleep = deps.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  const now = deps.now ?? Date.now;

  const watch = (ctx: StepContext, evalId: string, deadlineMs: number): Promise<WatchOutcome> =>
    watchRegistration(config, { nomad: deps.nomad, sleep, now }, {
      jobId: ctx.spec.name,
      evalId,
      deadline: now() + deadlineMs,
      signal: ctx.signal,
      onAllocChange: (change) => ctx.report(progressLine(change), { action: 'alloc.progress', metadata: { ...change } }),
      onNote: (message) => ctx.report(message),
      canaryWindowMs: (group) => parseGoDuration(ctx.spec.processes[group]?.canary?.evaluateAfter ?? DEFAULT_CANARY_WINDOW),
    });

  return {
    name: 'healthy',
    async run(ctx) {
      const { taskGroups = [], evalId } = ctx.outputs;
      if (taskGroups.length === 0 || !evalId) return skipped('the service job has no task groups');

      const outcome = await watch(ctx, evalId, config.deadlineMs);
      if (outcome.ok) return done(outcome.deploymentId ? { deploymentId: outcome.deploymentId } : {}, outcome.summary);

      const detail: Record<string, unknown> = {
        taskGroup: outcome.taskGroup,
        allocId: outcome.allocId,
        deploymentId: outcome.deployment?.ID,
        timedOut: outcome.timedOut,
      };
      if (outcome.revertedJobVersion !== undefined) {
        throw new StepFailedError('healthy', `${outcome.reason}; Nomad rolled back to the last stable version`, {
          ...detail,
          revertedJobVersion: outcome.revertedJobVersion,
        });
      }
      if (!ctx.spec.deployPolicy.autoRollback) throw new StepFailedError('healthy', outcome.reason, detail);

      const image = ctx.outputs.imageTag ?? prebuiltImage(ctx.spec);
      const good = await deps.lastGoodImage(ctx.app);
      if (!good || good === image) {
        ctx.report(good ? `the last good image is this one (${good}): nothing to roll back to` : 'no earlier successful deploy: nothing to roll back to');
        throw new StepFailedError('healthy', outcome.reason, detail);
      }
      ctx.report(`rolling back ${ctx.app} to ${good}`, { action: 'deploy.rollback', metadata: { image: good, failedImage: image ?? null } });
      const rollback = await deps.resubmit(ctx, good);
      const after = rollback.evalId ? await watch(ctx, rollback.evalId, config.rollbackDeadlineMs ?? config.deadlineMs) : undefined;
      ctx.report(after?.ok ? `rollback to ${good} is healthy` : `rollback to ${good} is not healthy either: ${after?.reason ?? 'not registered'}`);
      throw new StepFailedError('healthy', `${outcome.reason}; rolled back to ${good}`, {
        ...detail,
        rolledBackTo: good,
        rollbackHealthy: after?.ok ?? false,
      });
    },
  };
}

function progressLine(c: AllocChange): string {
  return `${c.name} (${c.allocId.slice(0, 8)}, v${c.jobVersion}) ${c.phase}${c.event ? ` — ${c.event}` : ''}`;
}
