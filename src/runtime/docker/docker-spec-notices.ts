// What a spec asks for that the Docker runtime does not do, said where the runtime is known: in `norn plan` and
// in each deploy's saga. (spec-notices.ts holds what no runtime acts on; these hold on Docker only.)
import type { AppSpec } from '../../apps/infraspec-schema.js';

export interface RuntimeNotice {
  readonly path: string;
  readonly reason: string;
}

export function dockerSpecNotices(spec: Pick<AppSpec, 'processes'>): RuntimeNotice[] {
  return Object.entries(spec.processes)
    .filter(([, proc]) => proc.canary !== undefined)
    .map(([name]) => ({
      path: `processes.${name}.canary`,
      reason:
        'not acted on by the Docker runtime: a deploy starts every new instance beside the old ones and replaces them once all pass their health check, ' +
        'with no canary stage to promote or fail (norn promote and norn canary fail answer 409 here); canaries need the Nomad runtime',
    }));
}
