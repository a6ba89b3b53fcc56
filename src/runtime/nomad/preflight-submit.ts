// The preflight's `submit`: validate and translate the spec as a deploy would, then ask Nomad to plan the jobs
// (what would change, whether they could be placed) without registering anything. Nomad unreachable is not a
// failure of the pull request: the step says so and passes; a job Nomad rejects or cannot place fails it.
import { StepFailedError, UpstreamError } from '../../errors.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { LoadSecrets } from '../../apps/app-secrets.js';
import { jobsToRegister, planJobs } from './plan-jobs.js';
import { done, type Step } from '../../pipeline/step.js';
import { prebuiltImage } from '../../apps/infraspec-schema.js';

export function preflightSubmitStep(
  config: { appPostgresUrl?: string; datacenters?: string[]; namespace?: string },
  deps: { nomad: Pick<NomadClient, 'plan'>; loadSecrets: LoadSecrets },
): Step {
  return {
    name: 'submit',
    async run(ctx) {
      const image = typeof ctx.outputs.imageTag === 'string' ? ctx.outputs.imageTag : prebuiltImage(ctx.spec);
      const secrets = await deps.loadSecrets(ctx.specDir);
      const { jobs } = jobsToRegister({ spec: ctx.spec, image, secrets: secrets?.env ?? {}, ...config });
      ctx.report(`translated ${jobs.map((j) => j.ID).join(', ') || 'no jobs'} (plan only, nothing registered)`);
      let plannedCount = 0;
      try {
        await planJobs(deps.nomad, jobs, ctx.signal, ({ job, result: plan }) => {
          plannedCount += 1;
          const failed = Object.keys(plan.FailedTGAllocs ?? {});
          if (failed.length > 0) throw new StepFailedError('submit', `Nomad could not place task group(s) ${failed.join(', ')} of ${job.ID}`);
          const change = typeof plan.Diff?.Type === 'string' ? plan.Diff.Type : 'unknown';
          ctx.report(`plan of ${job.ID}: ${change}${plan.Warnings ? `; warnings: ${plan.Warnings}` : ''}`, { action: 'nomad.planned', metadata: { jobId: job.ID, change } });
        });
      } catch (err) {
        if (err instanceof UpstreamError && err.status === 0) {
          ctx.report(`Nomad is not reachable; plan of ${jobs[plannedCount]?.ID} skipped`);
          return done({}, 'translated; Nomad not reachable, plan skipped');
        }
        throw err;
      }
      return done({}, 'plan accepted by Nomad');
    },
  };
}
