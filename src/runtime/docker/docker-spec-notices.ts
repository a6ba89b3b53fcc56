// What a spec asks for that the Docker runtime does not do, said where the runtime is known: in `norn plan` and
// in each deploy's saga. (spec-notices.ts holds what no runtime acts on; these hold on Docker only.) The Docker
// runtime acts on every field a service process has today, canaries included; the list is kept so a field it
// cannot honour is said, not silently dropped.
import type { AppSpec } from '../../apps/infraspec-schema.js';

export interface RuntimeNotice {
  readonly path: string;
  readonly reason: string;
}

export function dockerSpecNotices(_spec: Pick<AppSpec, 'processes'>): RuntimeNotice[] {
  return [];
}
