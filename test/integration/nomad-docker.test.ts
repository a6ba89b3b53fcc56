// End to end through the Nomad simulator's docker mode: the submit and healthy steps deploy a real container
// (busybox httpd from norn-base:latest) on the test Docker engine, and the test reaches it over HTTP.
// Needs `bash test/support/start-services.sh` (dockerd and the base image); fails saying so otherwise.
import { expect } from 'chai';
import Docker from 'dockerode';
import { pino } from 'pino';
import { infraspecSchema } from '../../src/apps/infraspec-schema.js';
import { StepFailedError } from '../../src/errors.js';
import { NomadClient } from '../../src/integrations/nomad/nomad-client.js';
import { healthyStep } from '../../src/runtime/nomad/healthy.js';
import { submitStep } from '../../src/runtime/nomad/submit.js';
import type { StepContext, StepOutputs } from '../../src/pipeline/step.js';
import { dockerDriver, SIM_CONTAINER_LABEL } from '../support/nomad-sim-docker.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { freePort } from '../support/child-receiver.js';

const IMAGE = 'norn-base:latest';


function context(spec: StepContext['spec'], outputs: StepOutputs): StepContext {
  return {
    sagaId: 'saga-e2e', app: spec.name, spec, specDir: '/nowhere', ref: 'refs/heads/main', commitSha: 'b'.repeat(40),
    cloneUrl: 'file:///nowhere', signal: new AbortController().signal, outputs, report: () => undefined,
  };
}

describe('Nomad simulator docker mode: deploy a real container', function () {
  this.timeout(60_000);
  let docker: Docker;
  let sim: NomadSimulator;
  let nomad: NomadClient;

  before(async () => {
    await requireDocker();
    const host = dockerHost();
    docker = host.startsWith('unix://') ? new Docker({ socketPath: host.slice('unix://'.length) }) : new Docker({ host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(host.replace(/^tcp:/, 'http:')).port) });
    await docker.getImage(IMAGE).inspect().catch((err: unknown) => {
      throw new Error(`${IMAGE} missing on the test Docker engine: run \`bash test/support/start-services.sh\``, { cause: err });
    });
  });

  beforeEach(async () => {
    // 0.01: MinHealthyTime 30s takes 300ms and HealthyDeadline 5m takes 3s, room for a container to start.
    sim = await NomadSimulator.start({ timeFactor: 0.01, stepMs: 20, driver: dockerDriver(docker) });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
  });

  afterEach(async () => {
    await sim.close();
    const left = await docker.listContainers({ all: true, filters: { label: [SIM_CONTAINER_LABEL] } });
    expect(left, 'the simulator removes its containers on close').to.deep.equal([]);
  });

  async function deploy(command: string, port: number) {
    const spec = infraspecSchema.parse({
      name: 'e2e',
      image: IMAGE,
      env: { GREETING: 'hello from norn' },
      processes: { web: { port, command, health: { path: '/healthz', interval: '1s', timeout: '1s' } } },
    });
    const submitted = await submitStep({}, { nomad, loadSecrets: async () => ({ env: { TOKEN: 't-1' }, skipped: [] }) }).run(context(spec, {}));
    if (submitted.status !== 'complete') throw new Error('submit skipped');
    const healthy = healthyStep(
      { deadlineMs: 30_000, blockingWaitMs: 2000, retryDelayMs: 50, maxRetries: 2 },
      { nomad, lastGoodImage: async () => undefined, resubmit: async () => { throw new Error('no rollback expected'); } },
    );
    return healthy.run(context(spec, submitted.outputs));
  }

  it('runs the app so it answers on its port, with the env Norn set', async () => {
    const port = await freePort();
    const serve = 'mkdir -p /tmp/www && echo ok > /tmp/www/healthz && echo "$GREETING $TOKEN" > /tmp/www/index.html && exec httpd -f -p $PORT -h /tmp/www';
    const result = await deploy(serve, port);
    expect(result.status).to.equal('complete');
    const res = await fetch(`http://127.0.0.1:${port}/index.html`);
    expect(await res.text()).to.equal('hello from norn t-1\n');
    const [alloc] = sim.allocations('e2e');
    expect(alloc!.DeploymentStatus?.Healthy).to.equal(true);
  });

  it('fails the health gate when the container exits, with its exit code', async () => {
    const err = await deploy('echo starting; exit 3', await freePort()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as Error).message).to.include('task group "web"').and.include('Exit Code: 3');
  });
});
