// The preflight's submit against the Nomad simulator: it plans exactly the jobs a deploy would register, says what
// Nomad would change, fails on a job Nomad cannot place, and passes (saying so) when Nomad is not reachable.
import { expect } from 'chai';
import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { type AppSpec, infraspecSchema } from '../../../../src/apps/infraspec-schema.js';
import { StepFailedError } from '../../../../src/errors.js';
import { NomadClient } from '../../../../src/integrations/nomad/nomad-client.js';
import type { StepContext } from '../../../../src/pipeline/step.js';
import { preflightSubmitStep } from '../../../../src/runtime/nomad/preflight-submit.js';
import { NomadSimulator } from '../../../support/nomad-simulator.js';

const IMAGE = 'reg/shop:pr-7';

function appSpec(processes: Record<string, unknown>): AppSpec {
  return infraspecSchema.parse({ name: 'shop', image: IMAGE, processes });
}

function context(spec: AppSpec) {
  const reports: { message: string; metadata?: Record<string, unknown> }[] = [];
  const ctx: StepContext = {
    sagaId: 'saga-pr',
    app: spec.name,
    spec,
    specDir: '/apps/shop',
    ref: 'refs/pull/7/head',
    commitSha: 'b'.repeat(40),
    cloneUrl: 'https://example.com/shop.git',
    signal: new AbortController().signal,
    outputs: { imageTag: IMAGE },
    report: (message, progress) => reports.push({ message, metadata: progress && { action: progress.action, ...progress.metadata } }),
  };
  return { ctx, reports };
}

const noSecrets = async () => undefined;

describe('preflight submit (Nomad plan, nothing registered)', function () {
  this.timeout(20_000);
  let sim: NomadSimulator;
  let nomad: NomadClient;

  beforeEach(async () => {
    sim = await NomadSimulator.start({ timeFactor: 0.001 });
    nomad = new NomadClient({ address: sim.url }, { fetch, log: pino({ level: 'silent' }) });
  });
  afterEach(() => sim.close());

  it('plans the service and periodic jobs, reports what Nomad would change, and registers nothing', async () => {
    const { ctx, reports } = context(appSpec({ web: { port: 8080 }, nightly: { schedule: '0 3 * * *', command: 'true' } }));
    const result = await preflightSubmitStep({}, { nomad, loadSecrets: noSecrets }).run(ctx);
    expect(result).to.deep.include({ status: 'complete', message: 'plan accepted by Nomad' });
    const planned = reports.filter((r) => r.metadata?.action === 'nomad.planned').map((r) => r.metadata?.jobId);
    expect(planned).to.have.length(2);
    expect(planned[0]).to.equal('shop');
    expect((await fetch(`${sim.url}/v1/jobs`).then((r) => r.json())) as unknown[]).to.deep.equal([]);
  });

  it('does not plan a service job with no task groups, as a deploy would not register it', async () => {
    const { ctx, reports } = context(appSpec({ nightly: { schedule: '0 3 * * *', command: 'true' } }));
    await preflightSubmitStep({}, { nomad, loadSecrets: noSecrets }).run(ctx);
    const planned = reports.filter((r) => r.metadata?.action === 'nomad.planned').map((r) => r.metadata?.jobId);
    expect(planned).to.have.length(1);
    expect(planned).not.to.include('shop');
  });

  it('fails, naming the task group, when Nomad could not place the job', async () => {
    sim.setScenario({ image: IMAGE }, 'placement-failure');
    const { ctx } = context(appSpec({ web: { port: 8080 } }));
    const err = await preflightSubmitStep({}, { nomad, loadSecrets: noSecrets }).run(ctx).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as Error).message).to.contain('could not place task group(s) web of shop');
  });

  it('passes and says so when Nomad is not reachable: a pull request is not at fault for that', async () => {
    const closed = await closedPort();
    const unreachable = new NomadClient({ address: `http://127.0.0.1:${closed}` }, { fetch, log: pino({ level: 'silent' }) });
    const { ctx, reports } = context(appSpec({ web: { port: 8080 } }));
    const result = await preflightSubmitStep({}, { nomad: unreachable, loadSecrets: noSecrets }).run(ctx);
    expect(result).to.deep.include({ status: 'complete', message: 'translated; Nomad not reachable, plan skipped' });
    expect(reports.map((r) => r.message)).to.include('Nomad is not reachable; plan of shop skipped');
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
