// `norn plan` on the Docker runtime: the containers a deploy would start, from the same plan a deploy uses, with
// secret env values redacted. Nothing is started, so no engine is needed.
import { expect } from 'chai';
import { planCommand } from '../../src/cli/plan-command.js';
import { captureIo } from '../fakes/capture-io.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('norn plan on the Docker runtime', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({
      env: { NORN_RUNTIME: 'docker', NORN_APP_POSTGRES_URL: 'postgres://app:pw-123@db:5432/postgres' },
      specs: {
        shop: {
          name: 'shop',
          image: 'reg/shop:1',
          infrastructure: { postgres: { database: 'shop' } },
          processes: { web: { port: 8080, health: { path: '/health' }, scaling: { min: 2 } }, nightly: { schedule: '0 3 * * *' } },
        },
      },
    });
  });
  after(() => svc?.close());

  it('lists scaling.min containers per service process, labelled, with DATABASE_URL redacted', async () => {
    const c = captureIo();
    expect(await planCommand(['shop'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io), c.err()).to.equal(0);
    expect(c.err()).to.contain('2 container(s) a deploy of shop would start on the Docker engine with image reg/shop:1');
    expect(c.err()).to.contain('<redacted> (DATABASE_URL)');
    const containers = JSON.parse(c.out()) as { Image: string; Env: string[]; Labels: Record<string, string> }[];
    expect(containers.map((x) => x.Labels['norn.process'])).to.deep.equal(['web', 'web']);
    expect(containers[0]!.Image).to.equal('reg/shop:1');
    expect(containers[0]!.Env).to.include.members(['PORT=8080', 'DATABASE_URL=<redacted>']);
    expect(c.out()).not.to.contain('pw-123');
  });
});
