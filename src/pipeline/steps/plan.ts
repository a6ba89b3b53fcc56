// The preflight's `submit`: validate and translate the spec as a deploy would, then ask Nomad to plan the jobs
// (what would change, whether they could be placed) without registering anything. Nomad unreachable is not a
// failure of the pull request: the step says so and passes; a job Nomad rejects or cannot place fails it.
import { StepFailedError, UpstreamError } from '../../errors.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { LoadSecrets } from './submit.js';
import { translateApp } from '../../nomad-jobs/translate-app.js';
import { done, type Step } from '../step.js';
import { prebuiltImage } from '../../apps/infraspec-schema.js';

export function planStep(
  config: { appPostgresUrl?: string; datacenters?: string[]; namespace?: string },
  deps: { nomad: Pick<NomadClient, 'plan'>; loadSecrets: LoadSecrets },
): Step {
  return {
    name: 'submit',
    async run(ctx) {
      const image = ctx.outputs.imageTag ?? prebuiltImage(ctx.spec);
      const secrets = await deps.loadSecrets(ctx.specDir);
      const jobs = translateApp({ spec: ctx.spec, image, secrets: secrets?.env ?? {}, ...config });
      const all = [...(jobs.service ? [jobs.service] : []), ...jobs.periodic];
      ctx.report(`translated ${all.map((j) => j.ID).join(', ') || 'no jobs'} (plan only, nothing registered)`);
      for (const job of all) {
        let plan;
        try {
          plan = await deps.nomad.plan(job, { signal: ctx.signal });
        } catch (err) {
          if (err instanceof UpstreamError && err.status === 0) {
            ctx.report(`Nomad is not reachable; plan of ${job.ID} skipped`);
            return done({}, 'translated; Nomad not reachable, plan skipped');
          }
          throw err;
        }
        const failed = Object.keys(plan.FailedTGAllocs ?? {});
        if (failed.length > 0) throw new StepFailedError('submit', `Nomad could not place task group(s) ${failed.join(', ')} of ${job.ID}`);
        const change = typeof plan.Diff?.Type === 'string' ? plan.Diff.Type : 'unknown';
        ctx.report(`plan of ${job.ID}: ${change}${plan.Warnings ? `; warnings: ${plan.Warnings}` : ''}`, { action: 'nomad.planned', metadata: { jobId: job.ID, change } });
      }
      return done({}, 'plan accepted by Nomad');
    },
  };
}
