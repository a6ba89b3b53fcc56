import { expect } from 'chai';
import { checkIntegrations, type IntegrationCheck } from '../../../src/health/integration-report.js';

const check = (name: string, probe?: IntegrationCheck['probe']): IntegrationCheck => ({
  name,
  purpose: 'test',
  settings: { [`${name.toUpperCase()}_URL`]: probe !== undefined },
  target: probe ? `http://${name}.test` : undefined,
  probe,
  unconfigured: 'nothing happens without it',
  hint: `start ${name}`,
});

describe('checkIntegrations', () => {
  it('runs the probes side by side under one deadline: a probe that hangs fails, the others still answer', async () => {
    const started = Date.now();
    const report = await checkIntegrations(
      [check('hangs', () => new Promise(() => undefined)), check('slow', () => new Promise((r) => setTimeout(() => r('late but fine'), 100))), check('off')],
      { timeoutMs: 400 },
    );
    // Side by side: well under the sum of a deadline per probe (loose bound for a loaded machine).
    expect(Date.now() - started).to.be.below(5_000);
    expect(report.hasFailures).to.equal(true);
    expect(report.integrations.map((i) => [i.name, i.state, i.detail, i.hint])).to.deep.equal([
      ['hangs', 'failing', 'no answer within 400 ms', 'start hangs'],
      ['slow', 'ok', 'late but fine', null],
      ['off', 'not configured', 'nothing happens without it', null],
    ]);
    expect(report.integrations[2]!.settings).to.deep.equal({ OFF_URL: 'unset' });
  });

  it('does not count an integration that is not configured as a failure', async () => {
    const report = await checkIntegrations([check('off'), check('up', async () => 'v1')], { timeoutMs: 1000 });
    expect(report.hasFailures).to.equal(false);
  });

  it('says a refused connection got no answer, in a few words', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const report = await checkIntegrations([check('down', () => Promise.reject(refused))], { timeoutMs: 1000 });
    expect(report.integrations[0]).to.include({ state: 'failing', detail: 'no answer (connection refused)' });
  });
});
