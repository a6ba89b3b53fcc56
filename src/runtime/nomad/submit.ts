// Step 6: the app's secrets, its Nomad jobs, and their registration. The service job goes first, then one periodic
// job per scheduled process (disabled when an operator paused it), then one parameterized job per function process. Decrypted values go into the jobs and nowhere else: not into reports, outputs or errors.
import type { NomadClient, Registration } from '../../integrations/nomad/nomad-client.js';
import { translateApp } from './translate-app.js';
import { done, type Step, type StepContext } from '../../pipeline/step.js';
import type { LoadSecrets } from '../../apps/app-secrets.js';
import { prebuiltImage } from '../../apps/infraspec-schema.js';

export interface SubmitConfig {
  /** NORN_APP_POSTGRES_URL, for DATABASE_URL of apps with infrastructure.postgres. */
  appPostgresUrl?: string;
  datacenters?: string[];
  namespace?: string;
}

export interface SubmitDeps {
  nomad: Pick<NomadClient, 'register'>;
  loadSecrets: LoadSecrets;
  /** The app's paused scheduled processes (`norn cron <app> pause`): registered disabled, so a deploy keeps the pause. */
  pausedSchedules?(app: string): Promise<ReadonlySet<string>>;
}

/** What a registration produced; also the healthy step's input. */
export interface Submission {
  imageTag: string;
  jobId: string;
  /** "" when the service job has no task groups and was not registered. */
  evalId: string;
  jobModifyIndex: number;
  taskGroups: string[];
  periodicJobs: { jobId: string; jobModifyIndex: number }[];
  /** Parameterized jobs of function processes (registered, not run: they run when invoked). */
  functionJobs: { jobId: string; jobModifyIndex: number }[];
  warnings: string[];
}

export type SubmitContext = Pick<StepContext, 'spec' | 'specDir' | 'signal' | 'report'>;

/** Translate and register the app's jobs with `image`; the healthy step calls it again to roll back. */
export async function submitJobs(config: SubmitConfig, deps: SubmitDeps, ctx: SubmitContext, image: string, why = 'deploy'): Promise<Submission> {
  const { spec, signal, report } = ctx;
  const secrets = await deps.loadSecrets(ctx.specDir);
  if (secrets?.skipped.length) report(`secrets not usable as env (nested or null), left out: ${secrets.skipped.join(', ')}`);
  const missing = (spec.secrets ?? []).filter((k) => !(k in (secrets?.env ?? {})));
  if (missing.length > 0) report(`secrets named in the spec but not in the secrets file: ${missing.join(', ')}`);

  const pausedSchedules = (await deps.pausedSchedules?.(spec.name)) ?? new Set<string>();
  const jobs = translateApp({ spec, image, secrets: secrets?.env ?? {}, ...config, pausedSchedules });
  const warnings: string[] = [];
  // A count set with `norn scale` outlives the deploy: groups already running keep theirs, new ones start with
  // the spec's (scaling.min), as `nomad job run -preserve-counts` does.
  const register = async (job: (typeof jobs)['service']): Promise<Registration> => {
    const r = await deps.nomad.register(job, { signal, preserveCounts: job.Type === 'service' });
    warnings.push(...r.warnings.map((w) => `${job.ID}: ${w}`));
    return r;
  };
  const taskGroups = jobs.service.TaskGroups.map((g) => g.Name);
  const service = taskGroups.length > 0 ? await register(jobs.service) : undefined;
  const periodicJobs: Submission['periodicJobs'] = [];
  for (const job of jobs.periodic) periodicJobs.push({ jobId: job.ID, jobModifyIndex: (await register(job)).jobModifyIndex });
  const functionJobs: Submission['functionJobs'] = [];
  for (const job of jobs.functions) functionJobs.push({ jobId: job.ID, jobModifyIndex: (await register(job)).jobModifyIndex });

  const submission: Submission = {
    imageTag: image,
    jobId: spec.name,
    evalId: service?.evalId ?? '',
    jobModifyIndex: service?.jobModifyIndex ?? 0,
    taskGroups,
    periodicJobs,
    functionJobs,
    warnings,
  };
  const pausedIds = new Set(jobs.periodic.filter((j) => j.Periodic?.Enabled === false).map((j) => j.ID));
  const what = [
    service ? `job ${spec.name} (eval ${service.evalId.slice(0, 8)}, modify index ${service.jobModifyIndex})` : undefined,
    ...periodicJobs.map((p) => `periodic job ${p.jobId}${pausedIds.has(p.jobId) ? ' (paused: norn cron resume)' : ''}`),
    ...functionJobs.map((f) => `function job ${f.jobId}`),
  ].filter(Boolean);
  report(`registered ${what.join(', ') || 'nothing (no service or scheduled process)'} with image ${image}`, {
    action: 'nomad.submitted',
    metadata: {
      reason: why,
      image,
      jobId: spec.name,
      evalId: submission.evalId,
      evalCreateIndex: service?.evalCreateIndex ?? 0,
      jobModifyIndex: submission.jobModifyIndex,
      taskGroups,
      periodicJobs,
      ...(functionJobs.length ? { functionJobs } : {}),
      ...(pausedIds.size ? { pausedSchedules: [...pausedIds] } : {}),
      warnings,
    },
  });
  for (const w of warnings) report(`Nomad warning: ${w}`, { action: 'nomad.warning' });
  return submission;
}

export function submitStep(config: SubmitConfig, deps: SubmitDeps): Step {
  return {
    name: 'submit',
    async run(ctx) {
      const image = ctx.outputs.imageTag ?? prebuiltImage(ctx.spec);
      const s = await submitJobs(config, deps, ctx, image);
      return done({ ...s }, s.evalId ? `registered ${s.jobId}, eval ${s.evalId.slice(0, 8)}` : `registered ${s.periodicJobs.length} periodic and ${s.functionJobs.length} function job(s)`);
    },
  };
}
