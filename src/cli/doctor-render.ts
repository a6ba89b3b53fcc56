// How `norn doctor` reads: one row per integration (state, where, which settings are set), the fix under each
// one that does not answer, and a last line that says whether anything needs attention.
import type { IntegrationReport, IntegrationStatus } from '../health/integration-report.js';
import { textTable } from './text-table.js';

const MARK: Record<IntegrationStatus['state'], string> = { ok: '✓', failing: '✗', 'not configured': '-' };
const STATE: Record<IntegrationStatus['state'], string> = { ok: 'ok', failing: 'NOT REACHABLE', 'not configured': 'not configured' };

export function doctorLines(receiverUrl: string, report: IntegrationReport): string[] {
  const rows = report.integrations.map((i) => [MARK[i.state], i.name, STATE[i.state], i.target ?? '-', settingsText(i), i.detail]);
  const table = textTable(['', 'INTEGRATION', 'STATE', 'WHERE', 'SETTINGS', 'DETAIL'], rows);
  const lines = [`receiver ${receiverUrl}`, '', table[0]!];
  report.integrations.forEach((i, n) => {
    lines.push(table[n + 1]!);
    if (i.state === 'failing' && i.hint) lines.push(`    → ${i.hint}`);
  });
  const failing = report.integrations.filter((i) => i.state === 'failing').map((i) => i.name);
  lines.push('', failing.length > 0 ? `✗ not reachable: ${failing.join(', ')}` : '✓ everything configured answers');
  return lines;
}

function settingsText(i: IntegrationStatus): string {
  return Object.entries(i.settings).map(([name, state]) => `${name} ${state}`).join(', ') || '-';
}
