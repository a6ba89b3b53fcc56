// The steps that belong to the runtime (pipeline/runtime.ts): submit and healthy, the preflight's plan, and the
// retirement of the old instances once the forge step has pointed the ingress at the new ones.
import { errorMessage, StepFailedError } from '../../errors.js';
import type { RuntimeSource } from '../runtime.js';
import type { Step } from '../step.js';
import { migrationUndoNotice } from './migration-undo-notice.js';

export function runtimeSubmitStep(source: RuntimeSource): Step {
  return { name: 'submit', run: async (ctx) => (await source.require('submit')).submit(ctx) };
}

export function runtimeHealthyStep(source: RuntimeSource): Step {
  return { name: 'healthy', run: async (ctx) => (await source.require('healthy')).healthy(ctx) };
}

export function runtimePlanStep(source: RuntimeSource): Step {
  return { name: 'submit', run: async (ctx) => (await source.require('submit')).plan(ctx) };
}

/**
 * `forge`, then the runtime retires the instances the new ones replace (also when there are no endpoints to
 * route). When routing fails, the new instances are discarded instead, so the version the ingress still points
 * at keeps serving alone.
 */
export function forgeThenRetire(forge: Step, source: RuntimeSource): Step {
  return {
    name: 'forge',
    async run(ctx) {
      let result;
      try {
        result = await forge.run(ctx);
      } catch (err) {
        const runtime = await source.current();
        await runtime?.discard(ctx).catch((e: unknown) => ctx.report(`could not remove the new instances: ${errorMessage(e)}`));
        // On Docker the old containers alone serve again (an automatic rollback); Nomad's discard changes nothing.
        const undo = runtime?.name === 'docker' ? migrationUndoNotice(ctx) : undefined;
        if (!undo) throw err;
        ctx.report(`the previous version keeps serving; ${undo.text}`, { action: 'deploy.rollback', metadata: { by: 'docker', ...undo.detail } });
        throw new StepFailedError('forge', `${undo.text}; ${errorMessage(err)}`, { ...(err instanceof StepFailedError ? err.detail : {}), ...undo.detail }, { cause: err });
      }
      await (await source.require('forge')).retire(ctx);
      return result;
    },
  };
}
