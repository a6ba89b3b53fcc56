// Whether an image a rollback would run still exists, asked of the real Docker engine and the real registry: on
// the engine, only in the registry (nothing pulled), nowhere, or impossible to tell (the registry does not answer).
import { expect } from 'chai';
import { imagePresence } from '../../src/deploys/image-presence.js';
import { createDockerClient } from '../../src/integrations/docker/create-docker-client.js';
import { closedPort } from '../support/closed-port.js';
import { BASE_IMAGE, nonce } from '../support/docker-fixture.js';
import { dockerHost, registryUrl, requireDocker, requireRegistry } from '../support/services.js';

describe('image presence for rollbacks (real engine and registry)', function () {
  this.timeout(120_000);
  const repository = `${registryUrl()}/rbi-${nonce()}`;
  const docker = createDockerClient({ dockerHost: dockerHost() });
  const check = imagePresence({ docker, registry: { host: registryUrl() } });

  before(async () => {
    await requireDocker();
    await requireRegistry();
    await docker.tag(BASE_IMAGE, { repository, tag: 'pushed' });
    await docker.push({ repository, tag: 'pushed', registry: registryUrl() }, undefined, () => undefined);
    await docker.tag(BASE_IMAGE, { repository, tag: 'local-only' });
  });
  after(async () => {
    for (const tag of ['pushed', 'local-only']) await docker.removeImage(`${repository}:${tag}`).catch(() => undefined);
  });

  it('finds an image on the engine, then only in the registry once the engine no longer has it', async () => {
    expect(await check(`${repository}:pushed`, 'rbi')).to.deep.equal({ status: 'engine', registry: registryUrl() });
    await docker.removeImage(`${repository}:pushed`);
    expect(await check(`${repository}:pushed`, 'rbi')).to.deep.equal({ status: 'registry', registry: registryUrl() });
    expect(await docker.hasImage(`${repository}:pushed`), 'asking the registry pulls nothing').to.equal(false);
  });

  it('says missing when neither has it, and unknown (with the reason) when the registry does not answer', async () => {
    await docker.removeImage(`${repository}:local-only`);
    expect(await check(`${repository}:local-only`, 'rbi')).to.deep.equal({ status: 'missing', registry: registryUrl() });
    const down = `127.0.0.1:${await closedPort()}`;
    const unknown = await check(`${down}/rbi:1`, 'rbi');
    expect(unknown).to.deep.include({ status: 'unknown', registry: down });
    expect(unknown.status === 'unknown' && unknown.reason).to.contain('connection refused');
  });
});
