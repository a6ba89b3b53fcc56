// Delivery under trouble: forge faults and rate limits, restarts, start-up reconciliation, refusals.
import { expect } from 'chai';
import type { Fault } from '../../support/forge-simulator.js';
import { claim, enqueue, expectNoToken, received, sagaActions, startHarness, startStep, succeed, until, type Harness } from './outbox-harness.js';

const SHA = 'c'.repeat(40);

describe('status outbox: delivery', () => {
  let h: Harness;
  afterEach(async () => {
    await expectNoToken(h, 'wrong-token-123456');
    await h.close();
  });

  const faults: [string, Fault, number][] = [
    ['5xx answers', { kind: 'server-error', status: 502 }, 3],
    ['dropped connections', { kind: 'drop-connection' }, 2],
    ['a 429 with Retry-After', { kind: 'too-many-requests', retryAfterSeconds: 1 }, 1],
    ['a 403 rate limit with X-RateLimit-Reset', { kind: 'rate-limit-403', resetInSeconds: 1 }, 1],
  ];
  for (const [name, fault, count] of faults) {
    it(`retries through ${name} until the status is delivered, once`, async () => {
      h = await startHarness();
      h.sim.failNext(count, fault);
      await h.newOutbox().start();
      const sagaId = await enqueue(h, { sha: SHA });
      await received(h, 1, 8000);
      expect(h.sim.received).to.have.length(1);
      const answers = h.sim.requests.map((r) => r.status);
      expect(answers.at(-1)).to.equal(201);
      expect(answers).to.have.length(count + 1);
      const [lastFault, success] = [h.sim.requests.at(-2)!, h.sim.requests.at(-1)!];
      if (fault.kind === 'too-many-requests') expect(success.at - lastFault.at).to.be.at.least(990);
      if (fault.kind === 'rate-limit-403') expect(success.at).to.be.at.least((Math.floor(lastFault.at / 1000) + 1) * 1000);
      await until('the status recorded', async () => (await sagaActions(h, sagaId)).length === 1);
      expect((await sagaActions(h, sagaId))[0]!.metadata).to.include({ state: 'pending', attempts: count + 1 });
    });
  }

  it('a rate limit holds back every status to that forge, not just the limited one', async () => {
    h = await startHarness();
    h.sim.failNext(1, { kind: 'too-many-requests', retryAfterSeconds: 1 });
    await h.newOutbox().start();
    await enqueue(h, { sha: SHA });
    await enqueue(h, { sha: 'd'.repeat(40), app: 'other' });
    await received(h, 2, 8000);
    const [limited, ...rest] = h.sim.requests;
    expect(limited!.status).to.equal(429);
    for (const r of rest) expect(r.at - limited!.at).to.be.at.least(990);
  });

  it('a restart continues where the last process stopped: the final status is still delivered', async () => {
    h = await startHarness();
    const first = h.newOutbox();
    await first.start();
    await enqueue(h, { sha: SHA });
    await received(h, 1);
    const deploy = await claim(h);
    h.sim.failNext(1000, { kind: 'server-error', status: 503 });
    await startStep(h, deploy, 'clone');
    await until('a failed attempt', () => h.sim.requests.length >= 2);
    await first.stop(); // the receiver goes down with a status in backoff ...
    await startStep(h, deploy, 'build');
    await succeed(h, deploy); // ... and the deploy ends while no deliverer runs
    const requestsWhileDown = h.sim.requests.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(h.sim.requests.length).to.equal(requestsWhileDown);

    h.sim.heal();
    const second = h.newOutbox();
    expect(await second.backlog()).to.equal(3); // clone, build and success waited in the store
    await second.start();
    await until('the final status', () => h.sim.received.some((s) => s.state === 'success'));
    await h.newOutbox().idle();
    // The pending statuses still queued at the restart were stale by then: only the final one went out.
    expect(h.sim.received.map((s) => `${s.state} ${s.description}`)).to.deep.equal(['pending queued', 'success deployed in 4.2s']);
  });

  it('at start-up, a commit left pending after its deploy ended gets its final status', async () => {
    h = await startHarness();
    const first = h.newOutbox();
    await first.start();
    const sagaId = await enqueue(h, { sha: SHA });
    await received(h, 1);
    const deploy = await claim(h);
    await startStep(h, deploy, 'clone');
    await received(h, 2);
    await first.stop();
    await succeed(h, deploy);
    // The final status was lost (a crash between the deploy's end and its status, or an older receiver).
    await h.store.knex('status_outbox').where({ saga_id: sagaId, status: 'queued' }).delete();

    await h.newOutbox().start();
    await received(h, 3);
    expect(h.sim.received).to.have.length(3);
    expect(h.sim.received.slice(0, 2).map((s) => `${s.state} ${s.description}`)).to.deep.equal(['pending queued', 'pending clone 1/9']);
    expect(h.sim.received[2]!.state).to.equal('success');
    expect(h.sim.received[2]!.description).to.match(/^deployed in \d+\.\ds$/);
    expect(h.sim.received[2]!.targetUrl).to.equal(h.sim.received[0]!.targetUrl);
  });

  it('a refused token is recorded once in the saga and its statuses dropped, never retried', async () => {
    h = await startHarness({ clientToken: 'wrong-token-123456' });
    const outbox = h.newOutbox();
    await outbox.start();
    const sagaId = await enqueue(h, { sha: SHA });
    const deploy = await claim(h);
    await startStep(h, deploy, 'clone');
    await succeed(h, deploy);
    await outbox.idle();
    const events = await sagaActions(h, sagaId);
    expect(events.map((e) => e.action)).to.deep.equal(['status.failed']);
    expect(events[0]!.message).to.contain('401').and.contain('norn/deploy/shop');
    expect(h.sim.received).to.have.length(0);
    const dropped = await h.store.knex('status_outbox').where({ saga_id: sagaId, status: 'dropped' }).count({ n: '*' }).first();
    const tried = h.sim.requests.length;
    expect(Number(dropped!.n)).to.equal(tried);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.sim.requests.length, 'no retries of a 401').to.equal(tried);
  });

  it('an unknown repository is recorded once as status.failed with the reason', async () => {
    h = await startHarness({ repos: ['acme/elsewhere'] });
    await h.newOutbox().start();
    const sagaId = await enqueue(h, { sha: SHA });
    await until('the failure recorded', async () => (await sagaActions(h, sagaId)).length === 1);
    const [event] = await sagaActions(h, sagaId);
    expect(event!.action).to.equal('status.failed');
    expect(event!.metadata).to.include({ forge: 'github', repo: 'acme/shop', context: 'norn/deploy/shop' });
    expect(String(event!.metadata.reason)).to.match(/^404/);
  });

  it('gives up on a status the forge keeps failing once it is older than the give-up age, and says so', async () => {
    h = await startHarness({ config: { giveUpAfterMs: 300 } });
    h.sim.failNext(1000, { kind: 'server-error' });
    await h.newOutbox().start();
    const sagaId = await enqueue(h, { sha: SHA });
    await until('the give-up recorded', async () => (await sagaActions(h, sagaId)).length === 1);
    const [event] = await sagaActions(h, sagaId);
    expect(event!.message).to.match(/gave up after \d+ attempts; last: forge answered 502/);
    expect(h.sim.requests.length).to.be.greaterThan(1);
  });
});
