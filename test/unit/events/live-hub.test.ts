// The hub's promises to each client: only its app, replay without gaps or duplicates, and a slow client cut off
// instead of slowing the others.
import { expect } from 'chai';
import { LiveHub } from '../../../src/events/live-hub.js';
import { SagaLog } from '../../../src/events/saga-log.js';
import { originAllowed } from '../../../src/http/auth.js';
import { createStore, type Store } from '../../../src/store/create-store.js';
import { memoryLogger } from '../../support/memory-logger.js';
import { RecordingSocket } from '../../fakes/recording-socket.js';

describe('LiveHub', () => {
  let store: Store;
  let sagaLog: SagaLog;
  let hub: LiveHub;
  const append = (app: string, i: number) => sagaLog.append({ sagaId: 's', app, source: 't', category: 'c', action: 'step.progress', message: `m${i}`, metadata: {} });

  beforeEach(async () => {
    store = await createStore({ sqliteFile: ':memory:' });
    sagaLog = new SagaLog({ knex: store.knex });
    hub = new LiveHub({ maxBufferedBytes: 1000, maxReplay: 100 }, { sagaLog, log: memoryLogger().log });
  });
  afterEach(() => store.close());

  it('sends a client only its app', async () => {
    const shop = new RecordingSocket();
    await hub.add(shop, { app: 'shop' });
    await append('shop', 1);
    await append('blog', 2);
    expect(shop.sent.map((e) => e.appId)).to.deep.equal(['shop']);
  });

  it('replays from since= and then goes live, holding events that arrive during the replay', async () => {
    for (let i = 0; i < 5; i++) await append('shop', i);
    const client = new RecordingSocket();
    const adding = hub.add(client, { since: 2 });
    await append('shop', 5); // lands while the replay query runs
    await adding;
    await append('shop', 6);
    expect(client.sent.map((e) => e.seq)).to.deep.equal([3, 4, 5, 6, 7]);
  });

  it('disconnects a client whose socket backs up, and keeps serving the others', async () => {
    const slow = new RecordingSocket();
    const fast = new RecordingSocket();
    await hub.add(slow, {});
    await hub.add(fast, {});
    slow.bufferedAmount = 5000;
    await append('shop', 1);
    await append('shop', 2);
    expect(slow.terminated).to.equal(true);
    expect(hub.clientCount).to.equal(1);
    expect(fast.sent).to.have.length(2);
  });

  it('lets browsers connect from localhost and the configured origins only', () => {
    expect(originAllowed('http://localhost:5173', [])).to.equal(true);
    expect(originAllowed('https://evil.example', [])).to.equal(false);
    expect(originAllowed('https://ops.example.com', ['https://ops.example.com'])).to.equal(true);
    expect(originAllowed(undefined, [])).to.equal(true);
  });
});
