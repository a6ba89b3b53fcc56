// A rollback is a deploy of kind `rollback` in the app's own lane, on both store engines: it never runs beside a
// deploy of the same app, and what it deployed counts as what runs; a pull request's preflight never does.
import { expect } from 'chai';
import { DeployQueue, type EnqueueInput } from '../../src/deploys/deploy-queue.js';
import { SagaLog } from '../../src/events/saga-log.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/services.js';

const input = (sha: string, extra: Partial<EnqueueInput> = {}): EnqueueInput => ({
  app: 'shop',
  kind: 'deploy',
  ref: 'refs/heads/main',
  commitSha: sha.repeat(40).slice(0, 40),
  trigger: 'push',
  deliveryId: null,
  forge: 'github',
  repoFullName: 'acme/shop',
  cloneUrl: 'file:///nowhere.git',
  prNumber: null,
  ...extra,
});

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`rollbacks in the deploy queue (${engine})`, function () {
    let scratch: ScratchDatabase | undefined;
    let store: Store;
    let queue: DeployQueue;

    beforeEach(async () => {
      if (engine === 'postgres') {
        await requirePostgres();
        scratch = await createScratchDatabase('norn_rb_lane');
      }
      store = await createStore({ databaseUrl: scratch?.url, sqliteFile: ':memory:' });
      queue = new DeployQueue({ knex: store.knex, sagaLog: new SagaLog({ knex: store.knex }), isPostgres: engine === 'postgres' });
    });
    afterEach(async () => {
      await store.close();
      await scratch?.drop();
    });

    const succeed = async (id: string, imageTag: string) => {
      await queue.finish(id, { status: 'succeeded', imageTag }, { sagaId: id, app: 'shop', source: 't', category: 'deploy', action: 'deploy.complete', message: 'ok', metadata: {} });
    };

    it('waits for a running deploy of the app, and a newer push supersedes a queued rollback', async () => {
      const deploy = await queue.enqueue(input('a'));
      await queue.claimNext('w', 30_000);
      const rollback = await queue.enqueue(input('b', { kind: 'rollback', trigger: 'manual' }));
      expect(await queue.claimNext('w', 30_000), 'a rollback beside a running deploy').to.equal(undefined);
      const push = await queue.enqueue(input('c'));
      await succeed(deploy.id, 'reg/shop:a');
      expect((await queue.claimNext('w', 30_000))?.deploy.id).to.equal(push.id);
      expect((await queue.get(rollback.id))?.status).to.equal('superseded');
    });

    it('takes the image of the newest successful deploy or rollback as what runs, never a preflight\'s', async () => {
      const first = await queue.enqueue(input('a'));
      await queue.claimNext('w', 30_000);
      await succeed(first.id, 'reg/shop:a');
      const preflight = await queue.enqueue(input('b', { kind: 'preflight', prNumber: 3 }));
      await queue.claimNext('w', 30_000);
      await succeed(preflight.id, 'shop:pr-build');
      expect(await queue.lastSucceededImage('shop')).to.equal('reg/shop:a');
      const rollback = await queue.enqueue(input('c', { kind: 'rollback', trigger: 'manual' }));
      await queue.claimNext('w', 30_000);
      await succeed(rollback.id, 'reg/shop:older');
      expect(await queue.lastSucceededImage('shop')).to.equal('reg/shop:older');
    });
  });
}
