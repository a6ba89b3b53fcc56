// The deploy queue on a fresh store of either engine (SQLite in memory, or a scratch PostgreSQL database), and the
// deploy a push of `acme/shop` asks for, for the tests of the queue's lanes.
import { DeployHistory } from '../../src/deploys/deploy-history.js';
import { DeployLifecycle, type NewDeploy } from '../../src/deploys/deploy-lifecycle.js';
import { SagaLog } from '../../src/events/saga-log.js';
import { createStore, type Store } from '../../src/store/create-store.js';
import { memoryLogger } from './memory-logger.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from './services.js';

export type StoreEngine = 'sqlite' | 'postgres';

/** A pushed deploy of `app` at a commit made of `sha` repeated to 40 characters, with `extra` fields over it. */
export function deployInput(app: string, sha: string, extra: Partial<NewDeploy> = {}): NewDeploy {
  return {
    app,
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
  };
}

export interface DeployQueueStore {
  readonly store: Store;
  readonly sagaLog: SagaLog;
  readonly lifecycle: DeployLifecycle;
  readonly history: DeployHistory;
  /** Closes the store and drops the scratch database, if there is one. */
  close(): Promise<void>;
}

/** On postgres, a new scratch database named after `scratchPrefix`. */
export async function openDeployQueueStore(engine: StoreEngine, scratchPrefix: string): Promise<DeployQueueStore> {
  let scratch: ScratchDatabase | undefined;
  if (engine === 'postgres') {
    await requirePostgres();
    scratch = await createScratchDatabase(scratchPrefix);
  }
  const store = await createStore({ databaseUrl: scratch?.url, sqliteFile: ':memory:' });
  const sagaLog = new SagaLog({ knex: store.knex });
  return {
    store,
    sagaLog,
    lifecycle: new DeployLifecycle({ knex: store.knex, sagaLog, isPostgres: engine === 'postgres', log: memoryLogger().log }),
    history: new DeployHistory({ knex: store.knex }),
    async close() {
      await store.close();
      await scratch?.drop();
    },
  };
}
