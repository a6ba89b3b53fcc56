// Jobs carry decrypted secrets in their task Env. Anything that shows a job to a person (`norn plan`, logs) prints
// this redacted copy instead.
import type { NomadJob } from '../integrations/nomad/nomad-types.js';

export const REDACTED = '<redacted>';

/** A copy of `job` with the values of `secretKeys` in every task's Env replaced by a marker. */
export function redactSecretEnv(job: NomadJob, secretKeys: readonly string[]): NomadJob {
  const secret = new Set(secretKeys);
  const copy = structuredClone(job);
  for (const task of copy.TaskGroups.flatMap((g) => g.Tasks)) {
    if (!task.Env) continue;
    for (const key of Object.keys(task.Env)) if (secret.has(key)) task.Env[key] = REDACTED;
  }
  return copy;
}
