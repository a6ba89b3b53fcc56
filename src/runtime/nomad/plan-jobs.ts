// What a deploy would register with Nomad, and Nomad's dry run of it, registering nothing. `norn plan` (the API)
// and the pull-request preflight both plan through here, so neither can drift from what the submit step registers.
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadJob, NomadPlanResponse } from '../../integrations/nomad/nomad-types.js';
import { translateApp, type TranslateInput } from './translate-app.js';

export interface JobsToRegister {
  /** In registration order: the service job when it has task groups (submit skips an empty one), then the periodic jobs, then the functions' parameterized jobs. */
  readonly jobs: NomadJob[];
  /** Env keys holding secret values, so printed jobs can be redacted. */
  readonly secretEnvKeys: string[];
}

export interface PlannedJob {
  readonly job: NomadJob;
  readonly result: NomadPlanResponse;
}

/** The jobs a deploy of `input.spec` with `input.image` would register. Throws what translation throws. */
export function jobsToRegister(input: TranslateInput): JobsToRegister {
  const translated = translateApp(input);
  const jobs = [...(translated.service.TaskGroups.length > 0 ? [translated.service] : []), ...translated.periodic, ...translated.functions];
  return { jobs, secretEnvKeys: translated.secretEnvKeys };
}

/**
 * Nomad's plan of each job, in order. The first failure (UpstreamError, or the signal's reason) is thrown, and so
 * is whatever `onPlanned` throws: it sees each plan as it comes, so a caller can stop at the first bad one.
 */
export async function planJobs(
  nomad: Pick<NomadClient, 'plan'>,
  jobs: readonly NomadJob[],
  signal: AbortSignal,
  onPlanned?: (planned: PlannedJob) => void,
): Promise<PlannedJob[]> {
  const all: PlannedJob[] = [];
  for (const job of jobs) {
    const planned = { job, result: await nomad.plan(job, { signal }) };
    onPlanned?.(planned);
    all.push(planned);
  }
  return all;
}
