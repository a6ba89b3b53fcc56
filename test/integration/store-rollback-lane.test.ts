// A rollback is a deploy of kind `rollback` in the app's own lane, on both store engines: it never runs beside a
// deploy of the same app, and what it deployed counts as what runs; a pull request's preflight never does.
import { expect } from 'chai';
import type { DeployHistory } from '../../src/deploys/deploy-history.js';
import type { DeployLifecycle, NewDeploy } from '../../src/deploys/deploy-lifecycle.js';
import type { DeployRecord } from '../../src/deploys/deploy-record.js';
import { deployInput, openDeployQueueStore, type DeployQueueStore } from '../support/deploy-queue-store.js';

const input = (sha: string, extra: Partial<NewDeploy> = {}): NewDeploy => deployInput('shop', sha, extra);

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`rollbacks in the deploy queue (${engine})`, function () {
    let queue: DeployQueueStore | undefined;
    let lifecycle: DeployLifecycle;
    let history: DeployHistory;

    beforeEach(async () => {
      queue = await openDeployQueueStore(engine, 'norn_rb_lane');
      ({ lifecycle, history } = queue);
    });
    afterEach(async () => {
      await queue?.close();
      queue = undefined;
    });

    const succeed = async (deploy: DeployRecord | undefined, imageTag: string) => {
      await lifecycle.finish(deploy!, { status: 'succeeded', outputs: { imageTag }, durationMs: 1 });
    };

    it('waits for a running deploy of the app, and a newer push supersedes a queued rollback', async () => {
      await lifecycle.queue(input('a'));
      const deploy = await lifecycle.claimNext('w', 30_000);
      const rollback = await lifecycle.queue(input('b', { kind: 'rollback', trigger: 'manual' }));
      expect(await lifecycle.claimNext('w', 30_000), 'a rollback beside a running deploy').to.equal(undefined);
      const push = await lifecycle.queue(input('c'));
      await succeed(deploy, 'reg/shop:a');
      expect((await lifecycle.claimNext('w', 30_000))?.id).to.equal(push.id);
      expect((await history.get(rollback.id))?.status).to.equal('superseded');
    });

    it('takes the image of the newest successful deploy or rollback as what runs, never a preflight\'s', async () => {
      await lifecycle.queue(input('a'));
      await succeed(await lifecycle.claimNext('w', 30_000), 'reg/shop:a');
      await lifecycle.queue(input('b', { kind: 'preflight', prNumber: 3 }));
      await succeed(await lifecycle.claimNext('w', 30_000), 'shop:pr-build');
      expect(await history.lastSucceededImage('shop')).to.equal('reg/shop:a');
      await lifecycle.queue(input('c', { kind: 'rollback', trigger: 'manual' }));
      await succeed(await lifecycle.claimNext('w', 30_000), 'reg/shop:older');
      expect(await history.lastSucceededImage('shop')).to.equal('reg/shop:older');
    });
  });
}
