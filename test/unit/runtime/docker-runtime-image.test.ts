import { expect } from 'chai';
import { pino } from 'pino';
import type { DockerContainers } from '../../../src/integrations/docker/docker-containers.js';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { appSpec, stepContext } from '../../support/docker-fixture.js';

// The plan needs no engine: containers are never asked, and there are no secrets.
const runtime = new DockerRuntime(
  { network: 'host', minHealthyMs: 0, healthyDeadlineMs: 1000 },
  {
    containers: {} as DockerContainers,
    loadSecrets: async () => undefined,
    specOf: () => undefined,
    sagaActions: async () => [],
    routedServices: async () => [],
    freePort: async () => 40000,
    log: pino({ level: 'silent' }),
  },
);

describe('the Docker runtime picks the image as the Nomad runtime does', () => {
  it('runs <app>:latest for a spec with no build and no image (Norn rule)', async () => {
    const ctx = stepContext(appSpec({ name: 'plain', processes: { web: { port: 8080 } } }), {});
    await runtime.plan(ctx);
    expect(ctx.reports.join('\n')).to.include('web: 1 container(s), port 8080');
  });
});
