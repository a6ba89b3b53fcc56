// Step 7: the health gate. It follows the deployment this registration created until Nomad calls it successful,
// reporting every allocation change as progress. A failed or cancelled deployment, or one still running at the
// deadline, fails the step, and so does a Nomad auto-revert (the new version did not come up). When Nomad did not
// revert and the spec allows it, the last good image is registered again (deployPolicy.autoRollback).
import { setTimeout as delay } from 'node:timers/promises';
import { parseGoDuration } from '../../apps/go-duration.js';
import { StepFailedError } from '../../errors.js';
import type { AllocChange } from './alloc-progress.js';
import { type WatchConfig, type WatchNomad, type WatchOutcome, watchRegistration } from './watch-registration.js';
import { done, skipped, type Step, type StepContext } from '../../pipeline/step.js';
import type { Submission, SubmitContext } from './submit.js';
import { prebuiltImage } from '../../apps/infraspec-schema.js';
import { CanaryGate } from './canary-gate.js';
import { migrationUndoNotice } from '../../pipeline/steps/migration-undo-notice.js';

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

/**
 * Each canary process's `evaluateAfter` in ms, capped at the health deadline: the step's own time limit leaves room
 * for one deadline of rollout after the canaries and one for a rollback, not more.
 */
function canaryWindows(spec: StepContext['spec'], capMs: number): Map<string, { windowMs: number; asked: string }> {
  const windows = new Map<string, { windowMs: number; asked: string }>();
  for (const [name, proc] of Object.entries(spec.processes)) {
    if (!proc.canary) continue;
    const asked = proc.canary.evaluateAfter ?? DEFAULT_CANARY_WINDOW;
    windows.set(name, { windowMs: Math.min(parseGoDuration(asked), capMs), asked });
  }
  return windows;
}

export function healthyStep(config: HealthyConfig, deps: HealthyDeps): Step {
  const sleep = deps.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  const now = deps.now ?? Date.now;

  const watch = (ctx: StepContext, evalId: string, deadlineMs: number, opts: { rollback?: boolean } = {}): Promise<WatchOutcome> => {
    const windows = canaryWindows(ctx.spec, config.deadlineMs);
    // Canaries are watched for their evaluateAfter before the rollout goes on: the deadline grows by that much.
    const longest = opts.rollback ? 0 : Math.max(0, ...[...windows.values()].map((w) => w.windowMs));
    const gate = new CanaryGate(
      { app: ctx.app, windowMs: (group) => windows.get(group)?.windowMs ?? 0, promoteWhenHealthy: opts.rollback },
      { nomad: deps.nomad, now, note: (message, progress) => ctx.report(message, progress) },
    );
    return watchRegistration(config, { nomad: deps.nomad, sleep, now }, {
      jobId: ctx.spec.name,
      evalId,
      deadline: now() + deadlineMs + longest,
      signal: ctx.signal,
      onAllocChange: (change) => ctx.report(progressLine(change), { action: 'alloc.progress', metadata: { ...change } }),
      onNote: (message) => ctx.report(message),
      canaries: gate,
    });
  };

  return {
    name: 'healthy',
    async run(ctx) {
      const { taskGroups = [], evalId } = ctx.outputs;
      if (taskGroups.length === 0 || !evalId) return skipped('the service job has no task groups');

      for (const [name, w] of canaryWindows(ctx.spec, config.deadlineMs)) {
        if (parseGoDuration(w.asked) > w.windowMs) {
          ctx.report(
            `processes.${name}.canary.evaluateAfter ${w.asked} is longer than the health deadline (NORN_HEALTHY_DEADLINE_SECONDS, ${Math.round(config.deadlineMs / 1000)}s): ` +
              `its canaries are promoted after ${Math.round(w.windowMs / 1000)}s unless an operator decides first; raise NORN_HEALTHY_DEADLINE_SECONDS to watch them longer`,
            { action: 'canary.window-capped', metadata: { process: name } },
          );
        }
      }
      const outcome = await watch(ctx, evalId, config.deadlineMs);
      if (outcome.ok) return done(outcome.deploymentId ? { deploymentId: outcome.deploymentId } : {}, outcome.summary);

      const detail: Record<string, unknown> = {
        taskGroup: outcome.taskGroup,
        allocId: outcome.allocId,
        deploymentId: outcome.deployment?.ID,
        timedOut: outcome.timedOut,
      };
      // The previous version runs again against a database this deploy migrated: say how to undo the migrations.
      const undo = migrationUndoNotice(ctx);
      const lead = undo ? `${undo.text}; ` : '';
      if (outcome.revertedJobVersion !== undefined) {
        if (undo) ctx.report(`Nomad rolled back ${ctx.app}; ${undo.text}`, { action: 'deploy.rollback', metadata: { by: 'nomad', revertedJobVersion: outcome.revertedJobVersion, ...undo.detail } });
        throw new StepFailedError('healthy', `${lead}${outcome.reason}; Nomad rolled back to the last stable version`, {
          ...detail,
          revertedJobVersion: outcome.revertedJobVersion,
          ...undo?.detail,
        });
      }
      if (!ctx.spec.deployPolicy.autoRollback) throw new StepFailedError('healthy', outcome.reason, detail);

      const image = ctx.outputs.imageTag ?? prebuiltImage(ctx.spec);
      const good = await deps.lastGoodImage(ctx.app);
      if (!good || good === image) {
        ctx.report(good ? `the last good image is this one (${good}): nothing to roll back to` : 'no earlier successful deploy: nothing to roll back to');
        throw new StepFailedError('healthy', outcome.reason, detail);
      }
      ctx.report(`rolling back ${ctx.app} to ${good}${undo ? `; ${undo.text}` : ''}`, { action: 'deploy.rollback', metadata: { image: good, failedImage: image ?? null, ...undo?.detail } });
      const rollback = await deps.resubmit(ctx, good);
      const after = rollback.evalId ? await watch(ctx, rollback.evalId, config.rollbackDeadlineMs ?? config.deadlineMs, { rollback: true }) : undefined;
      ctx.report(after?.ok ? `rollback to ${good} is healthy` : `rollback to ${good} is not healthy either: ${after?.reason ?? 'not registered'}`);
      throw new StepFailedError('healthy', `${lead}${outcome.reason}; rolled back to ${good}`, {
        ...detail,
        ...undo?.detail,
        rolledBackTo: good,
        rollbackHealthy: after?.ok ?? false,
      });
    },
  };
}

function progressLine(c: AllocChange): string {
  return `${c.name} (${c.allocId.slice(0, 8)}, v${c.jobVersion}) ${c.phase}${c.event ? ` — ${c.event}` : ''}`;
}
