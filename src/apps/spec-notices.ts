// What a valid spec asks for that this receiver accepts but does not act on, or reads differently from Norn v2.
// Nothing in a spec may be ignored silently: each notice names the field, says what happens here instead and what
// to do. `norn validate`, `GET /api/apps`, `norn plan` and the deploy's saga all show them.
import type { AppSpec } from './infraspec-schema.js';

export interface SpecNotice {
  /** Field path such as `infrastructure.kafka` or `processes.resize.function`. */
  readonly path: string;
  readonly reason: string;
}

export function specNotices(spec: AppSpec, raw: unknown): SpecNotice[] {
  const notices: SpecNotice[] = [];
  const note = (path: string, reason: string) => notices.push({ path, reason });
  const infra = spec.infrastructure;
  if (infra?.objectStorage) {
    note('infrastructure.objectStorage', 'not acted on: this receiver provisions no buckets and sets no S3_* variables; create the buckets yourself and put their settings in env or secrets.enc.yaml');
  }
  if (infra?.kafka) note('infrastructure.kafka', 'not acted on: no topics are created; create them on your Kafka cluster and pass its address in env or secrets');
  if (infra?.redis) note('infrastructure.redis', 'not acted on: no Redis namespace is set up and no REDIS_* variable is set; pass the address in env or secrets');
  if (infra?.nats) note('infrastructure.nats', 'not acted on: no JetStream streams are created; create them yourself and pass the address in env or secrets');
  if (spec.snapshots.exportBucket !== undefined) {
    note('snapshots.exportBucket', 'not acted on: snapshots stay in the receiver\'s data dir (NORN_DATA_DIR/snapshots); copy them off the machine yourself');
  }
  if ((raw as { snapshots?: { retentionEnabled?: unknown } } | null)?.snapshots?.retentionEnabled === false && spec.infrastructure?.postgres) {
    note('snapshots.retentionEnabled', `does not turn retention off here: after each snapshot only the newest ${spec.snapshots.keep} (keep) are kept, so dumps cannot fill the disk; raise keep to keep more`);
  }
  if (spec.services !== undefined) note('services', 'not acted on: a legacy Norn v1 list; processes says what runs');
  if (isEmptyMapping(raw, 'deployPolicy')) {
    note('deployPolicy', 'is empty: autoRollback stays true here (Norn\'s code reads an empty deployPolicy as false); write autoRollback: false to turn it off');
  }
  spec.endpoints?.forEach((e, i) => {
    if (e.region !== undefined) note(`endpoints[${i}].region`, 'not acted on: every endpoint is routed through the one cloudflared config this receiver edits');
  });
  for (const [name, proc] of Object.entries(spec.processes)) {
    const at = `processes.${name}`;
    if (proc.function !== undefined) {
      note(`${at}.function`, 'not deployed by a push: a function runs when invoked, with norn invoke <app> <process> [--payload FILE] (or POST /api/apps/:app/processes/:process/invoke); on Nomad a deploy registers it as the parameterized job <app>-<process> and an invocation dispatches it');
    }
    if (proc.scaling.auto !== undefined || proc.scaling.max !== undefined || proc.scaling.per_region !== undefined) {
      note(`${at}.scaling`, `only min is acted on (${proc.scaling.min} instance(s)); max, per_region and auto are not: scale with Nomad's autoscaler if you need it`);
    }
    if (proc.tuning !== undefined) note(`${at}.tuning`, 'not acted on: advisory only; change resources yourself');
  }
  return notices;
}

function isEmptyMapping(raw: unknown, key: string): boolean {
  const value = (raw as Record<string, unknown> | null)?.[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}
