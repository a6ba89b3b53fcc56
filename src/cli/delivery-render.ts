// How deliveries read in the CLI: one row each in the list; the decision trace (why it did or did not deploy)
// for one.
// Every line is one line: the fields come from webhook payloads, so newlines and control characters in them are escaped.
import type { DeliveryAnswer, DeliveryView, RedeliveryAnswer } from './api-types.js';
import { oneLine } from './terminal-text.js';

const VERDICT_ICONS: Record<string, string> = { queued: '✓', rejected: '✗' };

export function deliveryRow(d: DeliveryView): string {
  const where = [d.repo, d.ref?.replace(/^refs\/heads\//, '')].filter(Boolean).join(' ');
  const icon = VERDICT_ICONS[d.verdict] ?? '·';
  return oneLine(`${d.receivedAt.slice(0, 19).replace('T', ' ')}  ${icon} ${d.verdict.padEnd(9)} ${d.forge.padEnd(7)} ${d.id}  ${where || '-'}  ${d.reason}`);
}

export function deliveryTrace(answer: DeliveryAnswer): string[] {
  const { delivery: d, deploys } = answer;
  const t = d.trace;
  const lines = [
    `delivery ${d.id}`,
    `  received   ${d.receivedAt} from ${d.forge} (delivery id ${d.deliveryId})${d.redeliveryOf ? `, redelivery of ${d.redeliveryOf}` : ''}`,
    `  verdict    ${d.verdict} (HTTP ${d.statusCode}): ${d.reason}`,
    `  signature  ${t.signature}`,
    `  event      ${t.event ?? d.event ?? '-'}`,
    `  ref        ${t.ref ?? d.ref ?? '-'}${(t.commitSha ?? d.commitSha) ? ` @ ${(t.commitSha ?? d.commitSha)!.slice(0, 12)}` : ''}`,
  ];
  if (d.repo) lines.push(`  repo       ${d.repo}`);
  if (t.steps.length > 0) lines.push('  decision', ...t.steps.map((s) => `    - ${s}`));
  lines.push(t.apps.length > 0 ? '  apps considered' : '  apps considered: none');
  for (const a of t.apps) lines.push(`    ${a.matched ? '✓' : '✗'} ${a.app}: ${a.reason}`);
  for (const s of t.invalidSpecs) lines.push(`    ! ${s.file} ${s.path || '(file)'}: ${s.reason} (invalid spec, not considered)`);
  for (const w of t.specWarnings ?? []) lines.push(`    warning ${w.app} ${w.path}: ${w.reason}`);
  if (deploys.length > 0) lines.push('  deploys', ...deploys.map((x) => `    ${x.sagaId}  ${x.app}  ${x.status}${x.error ? `: ${x.error}` : ''}`));
  return lines.map(oneLine);
}

export function redeliveryLines(r: RedeliveryAnswer): string[] {
  const lines = [`redelivered ${r.redeliveryOf} as ${r.deliveryId ?? '?'}: ${r.verdict ?? '?'}${r.reason ? ` (${r.reason})` : ''}`];
  for (const d of r.deploys ?? []) lines.push(`  queued ${d.app}  saga ${d.sagaId}  @ ${d.commitSha.slice(0, 12)}  (follow: norn saga ${d.sagaId})`);
  return lines.map(oneLine);
}
