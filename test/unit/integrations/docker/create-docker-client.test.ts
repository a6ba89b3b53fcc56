import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, UpstreamError } from '../../../../src/errors.js';
import { createDockerClient, dockerConnectionOptions } from '../../../../src/integrations/docker/create-docker-client.js';

describe('dockerConnectionOptions', () => {
  const cases: Array<[string | undefined, object]> = [
    [undefined, { socketPath: '/var/run/docker.sock' }],
    ['unix:///run/norn-docker.sock', { socketPath: '/run/norn-docker.sock' }],
    ['tcp://10.0.0.5:2375', { protocol: 'http', host: '10.0.0.5', port: 2375 }],
    ['tcp://docker.internal', { protocol: 'http', host: 'docker.internal', port: 2375 }],
    ['tcp://[::1]:2375', { protocol: 'http', host: '::1', port: 2375 }],
    ['ssh://deploy@build-host:2222', { protocol: 'ssh', host: 'build-host', port: 2222, username: 'deploy', sshOptions: {} }],
  ];
  for (const [host, expected] of cases) {
    it(`maps ${host ?? 'no DOCKER_HOST'}`, () => {
      expect(dockerConnectionOptions({ dockerHost: host })).to.deep.equal(expected);
    });
  }

  it('uses https with TLS material and an ssh agent when configured', () => {
    expect(dockerConnectionOptions({ dockerHost: 'tcp://h:2376', tls: { ca: 'CA' } })).to.deep.equal({ protocol: 'https', host: 'h', port: 2376, ca: 'CA' });
    expect(dockerConnectionOptions({ dockerHost: 'ssh://h', sshAgent: '/run/agent.sock' })).to.deep.include({ sshOptions: { agent: '/run/agent.sock' } });
  });

  for (const bad of ['npipe:////./pipe/docker_engine', 'not a url', 'unix://']) {
    it(`refuses ${bad} naming DOCKER_HOST`, () => {
      expect(() => dockerConnectionOptions({ dockerHost: bad })).to.throw(ConfigError).with.property('variable', 'DOCKER_HOST');
    });
  }
});

describe('an engine that is not there', () => {
  it('says the engine gave no answer and names DOCKER_HOST', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'norn-nodocker-'));
    try {
      const engine = createDockerClient({ dockerHost: `unix://${dir}/docker.sock` });
      const err = await engine.hasImage('norn-base:latest').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UpstreamError).with.property('status', 0);
      expect((err as Error).message).to.equal(
        `docker: inspect image failed: no answer from unix://${dir}/docker.sock (no such socket); is the Docker engine running? set DOCKER_HOST`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never shows a user or password from DOCKER_HOST', async () => {
    const engine = createDockerClient({ dockerHost: 'tcp://admin:hunter2@127.0.0.1:1' });
    const err = await engine.version().catch((e: unknown) => e);
    expect((err as Error).message).to.match(/^docker: read version failed: no answer from tcp:\/\/127\.0\.0\.1:1 \(/).and.not.include('hunter2');
  });
});
