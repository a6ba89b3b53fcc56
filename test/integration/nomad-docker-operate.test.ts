// The Nomad runtime's logs and restart against the simulator's docker mode: the task runs as a real container
// (busybox httpd from norn-base:latest), its output reaches `streamLogs` through the alloc logs API, and a restart
// runs it again in place. Needs `bash test/support/start-services.sh` (dockerd and the base image).
import { expect } from 'chai';
import Docker from 'dockerode';
import { pino } from 'pino';
import { infraspecSchema } from '../../src/apps/infraspec-schema.js';
import { NomadClient } from '../../src/integrations/nomad/nomad-client.js';
import type { LogLine } from '../../src/pipeline/runtime-operations.js';
import type { StepContext, StepOutputs } from '../../src/pipeline/step.js';
import { nomadRuntime } from '../../src/runtime/nomad/nomad-runtime.js';
import { freePort } from '../support/child-receiver.js';
import { dockerDriver, SIM_CONTAINER_LABEL } from '../support/nomad-sim-docker.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { dockerHost, requireDocker } from '../support/services.js';

const IMAGE = 'norn-base:latest';

describe('Nomad runtime logs and restart with real containers (simulator docker mode)', function () {
  this.timeout(90_000);
  let docker: Docker;
  let sim: NomadSimulator;

  before(async () => {
    await requireDocker();
    const host = dockerHost();
    docker = host.startsWith('unix://') ? new Docker({ socketPath: host.slice('unix://'.length) }) : new Docker({ host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(host.replace(/^tcp:/, 'http:')).port) });
    sim = await NomadSimulator.start({ timeFactor: 0.01, stepMs: 20, driver: dockerDriver(docker) });
  });
  after(async () => {
    await sim?.close();
    const left = await docker.listContainers({ all: true, filters: { label: [SIM_CONTAINER_LABEL] } });
    expect(left, 'the simulator removes its containers on close').to.deep.equal([]);
  });

  it('reads what the container wrote, and restarts it in place so it writes again', async () => {
    const nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
    const runtime = nomadRuntime(
      { submit: {}, healthy: { deadlineMs: 30_000, blockingWaitMs: 1000, retryDelayMs: 50, maxRetries: 2 }, restartHealthyMs: 300 },
      { nomad, loadSecrets: async () => undefined, lastGoodImage: async () => undefined, log: pino({ level: 'silent' }) },
    );
    const port = await freePort();
    const spec = infraspecSchema.parse({
      name: 'nlogs',
      image: IMAGE,
      processes: { web: { port, command: 'echo "boot $NOMAD_ALLOC_ID"; echo "to stderr" >&2; mkdir -p /tmp/w && echo ok > /tmp/w/healthz && exec httpd -f -p $PORT -h /tmp/w', health: { path: '/healthz', interval: '1s', timeout: '1s' } } },
    });
    const ctx = (outputs: StepOutputs): StepContext => ({
      sagaId: 'saga-nlogs', app: 'nlogs', spec, specDir: '/nowhere', ref: 'refs/heads/main', commitSha: 'c'.repeat(40),
      cloneUrl: 'file:///nowhere', signal: new AbortController().signal, outputs, report: () => undefined,
    });
    const submitted = await runtime.submit(ctx({}));
    expect((await runtime.healthy(ctx(submitted.status === 'complete' ? submitted.outputs : {}))).status).to.equal('complete');
    const [alloc] = sim.allocations('nlogs');

    const read = async () => {
      const lines: LogLine[] = [];
      for await (const l of runtime.streamLogs('nlogs', { follow: false, signal: new AbortController().signal })) lines.push(l);
      return lines;
    };
    const instance = alloc!.ID.slice(0, 8);
    const boot = { process: 'web', instance, stream: 'stdout', text: `boot ${alloc!.ID}` };
    await waitFor(async () => (await read()).length >= 2);
    expect(await read()).to.deep.include.members([boot, { process: 'web', instance, stream: 'stderr', text: 'to stderr' }]);

    const progress: string[] = [];
    const outcome = await runtime.restart({ app: 'nlogs', spec, signal: new AbortController().signal, report: async (m) => void progress.push(m) });
    expect(outcome.restarted).to.deep.equal([{ process: 'web', instance }]);
    expect(sim.allocations('nlogs')[0]!.TaskStates!.web!.Restarts).to.equal(1);
    // The task ran again in the same allocation: it wrote its boot line a second time.
    await waitFor(async () => (await read()).filter((l) => l.text === boot.text).length === 2);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).to.equal('ok\n');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
