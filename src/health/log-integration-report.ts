// The start-up lines that tell an operator, once, what the receiver can reach: one line per integration, a
// warning for each configured one that does not answer, with what to do about it.
import type { Logger } from 'pino';
import type { IntegrationReport, IntegrationStatus } from './integration-report.js';

export function logIntegrationReport(report: IntegrationReport, log: Logger): void {
  for (const i of report.integrations) {
    const fields = { integration: i.name, state: i.state, target: i.target, settings: i.settings };
    if (i.state === 'failing') log.warn(fields, `${i.name} is not reachable${i.target ? ` at ${i.target}` : ''}: ${i.detail}${i.hint ? `; ${i.hint}` : ''}`);
    else log.info(fields, integrationLine(i));
  }
  const failing = report.integrations.filter((i) => i.state === 'failing').map((i) => i.name);
  if (failing.length > 0) log.warn({ failing }, `integrations not reachable: ${failing.join(', ')} (details: norn doctor, or GET /api/health?verbose)`);
}

function integrationLine(i: IntegrationStatus): string {
  const unset = Object.entries(i.settings).filter(([, v]) => v === 'unset').map(([k]) => k);
  if (i.state === 'not configured') return `${i.name} not configured (${unset.join(', ')} unset): ${i.detail}`;
  return `${i.name} ok${i.target ? ` at ${i.target}` : ''}: ${i.detail}`;
}
