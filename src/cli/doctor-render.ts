// How `norn doctor` reads: one row per integration (state, where, what it said), the fix under each one that does
// not answer, the unset settings of those not configured, and a last line that says whether anything needs
// attention. Every setting's set/unset state is in the JSON (GET /api/health?verbose).
import type { IntegrationReport, IntegrationStatus } from '../health/integration-report.js';
import { textTable } from './text-table.js';

const MARK: Record<IntegrationStatus['state'], string> = { ok: '✓', failing: '✗', 'not configured': '-' };
const STATE: Record<IntegrationStatus['state'], string> = { ok: 'ok', failing: 'NOT REACHABLE', 'not configured': 'not configured' };

export function doctorLines(receiverUrl: string, report: IntegrationReport): string[] {
  const rows = report.integrations.map((i) => [MARK[i.state], i.name, STATE[i.state], i.target ?? '-', detailText(i)]);
  const table = textTable(['', 'INTEGRATION', 'STATE', 'WHERE', 'DETAIL'], rows);
  const lines = [`receiver ${receiverUrl}`, '', table[0]!];
  report.integrations.forEach((i, n) => {
    lines.push(table[n + 1]!);
    if (i.state === 'failing' && i.hint) lines.push(`    → ${i.hint}`);
  });
  const failing = report.integrations.filter((i) => i.state === 'failing').map((i) => i.name);
  lines.push('', failing.length > 0 ? `✗ not reachable: ${failing.join(', ')}` : '✓ everything configured answers');
  return lines;
}

function detailText(i: IntegrationStatus): string {
  if (i.state !== 'not configured') return i.detail;
  const unset = Object.entries(i.settings).filter(([, state]) => state === 'unset').map(([name]) => name);
  return unset.length > 0 ? `${i.detail} (unset: ${unset.join(', ')})` : i.detail;
}
