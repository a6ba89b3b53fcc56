// The registry row of the integration report against the real test registries: open, with basic auth (right and
// wrong credentials, none), and one that is not there.
import { expect } from 'chai';
import net, { type AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/load-config.js';
import { integrationChecks, type IntegrationClients } from '../../src/health/integration-checks.js';
import { checkIntegrations } from '../../src/health/integration-report.js';
import { authRegistryCredentials, authRegistryUrl, registryUrl, requireAuthRegistry, requireRegistry } from '../support/services.js';

const unused: IntegrationClients = {
  nomad: { leader: async () => 'unused' },
  docker: { address: 'unused', version: async () => ({ version: 'unused', apiVersion: 'unused' }) },
  ingress: { configPath: '/nonexistent', listRules: async () => ({ rules: [], problems: [] }) },
  fetch,
};

async function registryRow(env: Record<string, string>) {
  const config = loadConfig({ NORN_DATA_DIR: '/tmp/unused', ...env });
  const checks = integrationChecks(config, unused, { timeoutMs: 5000 }).filter((c) => c.name === 'registry');
  return (await checkIntegrations(checks, { timeoutMs: 5000 })).integrations[0]!;
}

describe('integration report: the registry', function () {
  this.timeout(30_000);
  before(() => Promise.all([requireRegistry(), requireAuthRegistry()]));
  const { username, password } = authRegistryCredentials();

  it('an open registry answers', async () => {
    expect(await registryRow({ NORN_REGISTRY_URL: registryUrl() })).to.include({ state: 'ok', detail: `answers at http://${registryUrl()}/v2/` });
  });

  it('a registry with basic auth accepts the configured credentials', async () => {
    const row = await registryRow({ NORN_REGISTRY_URL: authRegistryUrl(), NORN_REGISTRY_USERNAME: username, NORN_REGISTRY_PASSWORD: password });
    expect(row).to.include({ state: 'ok', detail: `answers at http://${authRegistryUrl()}/v2/ (credentials accepted)` });
  });

  it('says when the registry refuses the credentials, or wants some, never showing them', async () => {
    const wrong = await registryRow({ NORN_REGISTRY_URL: authRegistryUrl(), NORN_REGISTRY_USERNAME: username, NORN_REGISTRY_PASSWORD: 'not-the-password' });
    expect(wrong).to.include({ state: 'failing', detail: 'the registry refused NORN_REGISTRY_USERNAME/_PASSWORD (401)' });
    expect(JSON.stringify(wrong)).not.to.include('not-the-password');
    const none = await registryRow({ NORN_REGISTRY_URL: authRegistryUrl() });
    expect(none).to.include({ state: 'failing', detail: 'the registry wants credentials (401): set NORN_REGISTRY_USERNAME/_PASSWORD' });
  });

  it('a registry that is not there gives no answer, and the row says what to do', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const row = await registryRow({ NORN_REGISTRY_URL: `127.0.0.1:${port}` });
    expect(row).to.include({ state: 'failing', detail: 'no answer (connection refused)' });
    expect(row.hint).to.match(/^is the registry running\? set NORN_REGISTRY_URL/);
  });
});
