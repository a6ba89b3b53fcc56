// `norn status <app>` against the service: which image runs and which deploy put it there, an image a later
// deploy pushed without going live, and a pull request's preflight build never counted as what runs.
import { expect } from 'chai';
import { statusCommand } from '../../src/cli/app-commands.js';
import type { StepName } from '../../src/pipeline/step.js';
import { DeployLifecycle } from '../../src/deploys/deploy-lifecycle.js';
import { memoryLogger } from '../support/memory-logger.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

describe('norn status: the live image and the last one built', function () {
  this.timeout(30_000);
  let svc: TestService;
  let lifecycle: DeployLifecycle;

  before(async () => {
    svc = await startTestService({ specs: { shop: { name: 'shop', repo: { url: 'https://git.example.com/acme/shop.git', branch: 'main' }, build: {}, processes: { web: { port: 8080 } } } } });
    // The deploys below are played by hand: the service must not run them.
    await svc.service.scheduler.stop();
    lifecycle = new DeployLifecycle({ knex: svc.service.store.knex, sagaLog: svc.service.sagaLog, isPostgres: false, log: memoryLogger().log });
  });
  after(async () => svc?.close());

  async function ended(kind: 'deploy' | 'preflight', sha: string, outcome: { status: 'succeeded' } | { status: 'failed'; step: StepName; error: string }, imageTag: string) {
    await lifecycle.queue({ app: 'shop', kind, ref: 'refs/heads/main', commitSha: sha.repeat(40), trigger: 'push', deliveryId: null, forge: null, repoFullName: null, cloneUrl: 'x', prNumber: kind === 'preflight' ? 7 : null });
    const deploy = (await lifecycle.claimNext('test', 60_000))!;
    await lifecycle.finish(deploy, { ...outcome, outputs: { imageTag }, durationMs: 1000 });
    return deploy.id;
  }

  const status = async () => {
    const c = captureIo();
    expect(await statusCommand(['shop'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io), c.err()).to.equal(0);
    return c.lines();
  };

  it('says nothing runs yet, then which deploy put the image there, then what a failed deploy pushed', async () => {
    expect((await status())[2]).to.equal('  image    none yet (no deploy has succeeded)');
    const live = await ended('deploy', 'a', { status: 'succeeded' }, 'r/shop:aaaa');
    await ended('preflight', 'b', { status: 'succeeded' }, 'r/shop:pr-bbbb');
    const failed = await ended('deploy', 'c', { status: 'failed', step: 'submit', error: 'nomad: register job failed: no answer' }, 'r/shop:cccc');
    const lines = await status();
    expect(lines[2]).to.match(new RegExp(`^  image    r/shop:aaaa \\(deployed by saga ${live}, [\\d-]+ [\\d:]+, aaaaaaaaaaaa\\)$`));
    expect(lines[3]).to.match(new RegExp(`^  built    r/shop:cccc \\(saga ${failed}, [\\d-]+ [\\d:]+; failed at submit, not deployed\\)$`));
    expect(lines[4]).to.equal('  deploy   idle (no deploy running)');
  });
});
