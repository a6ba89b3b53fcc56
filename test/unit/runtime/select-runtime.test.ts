import { expect } from 'chai';
import { chooseRuntime, SelectedRuntime } from '../../../src/runtime/select-runtime.js';
import type { Runtime } from '../../../src/pipeline/runtime.js';
import { StepFailedError } from '../../../src/errors.js';

const answers = { engineAnswers: async () => true as const };
const silent = { engineAnswers: async () => 'connect ENOENT /var/run/docker.sock' };

describe('chooseRuntime', () => {
  it('follows NORN_RUNTIME whatever else is set', async () => {
    expect((await chooseRuntime({ runtime: 'docker', nomadAddressIsSet: true }, silent)).runtime).to.equal('docker');
    expect((await chooseRuntime({ runtime: 'nomad', nomadAddressIsSet: false }, answers)).runtime).to.equal('nomad');
  });

  it('unset: Nomad when NOMAD_ADDR is set, else Docker when the engine answers', async () => {
    expect(await chooseRuntime({ nomadAddressIsSet: true }, answers)).to.include({ runtime: 'nomad' });
    const docker = await chooseRuntime({ nomadAddressIsSet: false, dockerHost: 'unix:///run/x.sock' }, answers);
    expect(docker.runtime).to.equal('docker');
    expect(docker.reason).to.contain('unix:///run/x.sock');
  });

  it('with neither, names both settings and what the engine said', async () => {
    const none = await chooseRuntime({ nomadAddressIsSet: false }, silent);
    expect(none.runtime).to.equal(undefined);
    expect(none.reason).to.match(/NOMAD_ADDR/).and.match(/DOCKER_HOST/).and.match(/ENOENT/);
  });
});

describe('SelectedRuntime', () => {
  it('fails submit with the reason while there is no runtime, and picks up an engine that starts later', async () => {
    let up = false;
    const built: string[] = [];
    const selected = new SelectedRuntime(
      { nomadAddressIsSet: false },
      {
        engineAnswers: async () => (up ? true : 'connection refused'),
        build: (name) => {
          built.push(name);
          return { name } as Runtime;
        },
      },
    );
    const err = await selected.require('submit').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as StepFailedError).step).to.equal('submit');
    expect((err as Error).message).to.match(/NOMAD_ADDR/);
    up = true;
    expect((await selected.require('submit')).name).to.equal('docker');
    await selected.require('healthy');
    expect(built).to.deep.equal(['docker']);
  });

  it('sends one engine probe for callers that ask at the same time while no runtime is chosen', async () => {
    let probes = 0;
    const selected = new SelectedRuntime(
      { nomadAddressIsSet: false },
      {
        engineAnswers: async () => {
          probes += 1;
          await new Promise((r) => setTimeout(r, 20));
          return 'connection refused';
        },
        build: (name) => ({ name }) as Runtime,
      },
    );
    const choices = await Promise.all(Array.from({ length: 10 }, () => selected.describe()));
    expect(probes).to.equal(1);
    expect(choices.every((c) => c.runtime === undefined)).to.equal(true);
    await selected.describe();
    expect(probes, 'a later call still probes again').to.equal(2);
  });
});
