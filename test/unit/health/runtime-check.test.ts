import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config/load-config.js';
import { integrationChecks, type IntegrationClients } from '../../../src/health/integration-checks.js';
import { checkIntegrations } from '../../../src/health/integration-report.js';
import { logIntegrationReport } from '../../../src/health/log-integration-report.js';

// Only the runtime and Nomad entries are checked here; the other clients are never asked.
const unused: IntegrationClients = {
  nomad: { leader: () => Promise.reject(new Error('Nomad must not be asked when it is not configured')) },
  docker: { address: 'unix:///nowhere.sock', version: () => Promise.reject(new Error('not asked')) },
  ingress: { configPath: '/nowhere/config.yml', listRules: () => Promise.reject(new Error('not asked')) },
  fetch: () => Promise.reject(new Error('not asked')),
};
const noRuntime = {
  describe: async () => ({ runtime: undefined, reason: 'no runtime to deploy to: NOMAD_ADDR is not set and no Docker engine answers (set DOCKER_HOST or NOMAD_ADDR)' }),
};

describe('the runtime in the integration report', () => {
  it('says once why no runtime was found, naming the settings, and leaves an unset Nomad unprobed', async () => {
    const checks = integrationChecks(loadConfig({}), { ...unused, runtime: noRuntime }, { timeoutMs: 1000 }).filter((c) => c.name === 'runtime' || c.name === 'nomad');
    const report = await checkIntegrations(checks, { timeoutMs: 1000 });
    const [runtime, nomad] = report.integrations;
    expect(runtime).to.include({ name: 'runtime', state: 'failing' });
    expect(runtime!.detail).to.include('NOMAD_ADDR').and.include('DOCKER_HOST');
    expect(nomad).to.include({ name: 'nomad', state: 'not configured' });

    const lines: string[] = [];
    logIntegrationReport(report, pino({ level: 'info' }, { write: (l: string) => lines.push(l) }));
    const warning = JSON.parse(lines.find((l) => l.includes('"integration":"runtime"'))!) as { msg: string };
    expect(warning.msg).to.equal(`runtime is not reachable: ${runtime!.detail}`);
  });
});
