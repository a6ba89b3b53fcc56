import { expect } from 'chai';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

describe('runtime settings', () => {
  it('default to choosing: bridge networking, 10 s minimum healthy time, NOMAD_ADDR not set', () => {
    const c = loadConfig({});
    expect(c.runtime).to.equal(undefined);
    expect(c.docker).to.deep.equal({ network: 'bridge', minHealthyMs: 10_000 });
    expect(c.nomad.isAddressSet).to.equal(false);
    expect(c.nomad.address).to.equal('http://127.0.0.1:4646');
  });

  it('see NOMAD_ADDR set in the environment, and take NORN_RUNTIME and NORN_DOCKER_NETWORK', () => {
    const c = loadConfig({ NOMAD_ADDR: 'http://nomad:4646', NORN_RUNTIME: 'docker', NORN_DOCKER_NETWORK: 'host', NORN_DOCKER_MIN_HEALTHY_SECONDS: '0' });
    expect(c.nomad.isAddressSet).to.equal(true);
    expect(c.runtime).to.equal('docker');
    expect(c.docker).to.deep.equal({ network: 'host', minHealthyMs: 0 });
  });

  it("see Norn v2's NORN_NOMAD_ADDR as NOMAD_ADDR set, so a Norn user's receiver deploys to Nomad", () => {
    const c = loadConfig({ NORN_NOMAD_ADDR: 'http://nomad:4646' });
    expect(c.nomad.isAddressSet).to.equal(true);
    expect(c.nomad.address).to.equal('http://nomad:4646');
  });

  it('refuse a runtime or network they do not know, naming the variable', () => {
    expect(() => loadConfig({ NORN_RUNTIME: 'k8s' })).to.throw(ConfigError, /NORN_RUNTIME: must be docker or nomad/);
    expect(() => loadConfig({ NORN_DOCKER_NETWORK: 'overlay' })).to.throw(ConfigError, /NORN_DOCKER_NETWORK: must be bridge or host/);
  });
});
