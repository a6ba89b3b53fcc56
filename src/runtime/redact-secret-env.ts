// Jobs and containers carry decrypted secrets in their env. Anything that shows one to a person (`norn plan`, logs)
// prints a redacted copy instead.
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

/** A container's `KEY=value` env list with the values of `secretKeys` replaced by the same marker. */
export function redactEnvList(env: readonly string[], secretKeys: readonly string[]): string[] {
  const secret = new Set(secretKeys);
  return env.map((kv) => {
    const key = kv.slice(0, kv.indexOf('='));
    return secret.has(key) ? `${key}=${REDACTED}` : kv;
  });
}
