// What a forge sees of a deploy: the sequence of commit statuses, driven by real saga events.
import { expect } from 'chai';
import { STEP_NAMES } from '../../../src/pipeline/step.js';
import { insertRow, type OutboxRow } from '../../../src/statuses/outbox-rows.js';
import { claim, enqueue, expectNoToken, fail, PUBLIC_URL, received, sagaActions, startHarness, startStep, succeed, until, type Harness } from './outbox-harness.js';

const SHA = '1'.repeat(40);

describe('status outbox: the statuses of a deploy', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await expectNoToken(h);
    await h.close();
  });

  it('a successful deploy: pending when queued, pending per step, then success; each one recorded in the saga', async () => {
    await h.newOutbox().start();
    const sagaId = await enqueue(h, { sha: SHA });
    await received(h, 1);
    const deploy = await claim(h);
    for (const [i, step] of STEP_NAMES.entries()) {
      await startStep(h, deploy, step);
      await received(h, i + 2);
    }
    await succeed(h, deploy);
    await received(h, 11);

    expect(h.sim.received.map((s) => `${s.state} ${s.description}`)).to.deep.equal([
      'pending queued',
      ...STEP_NAMES.map((s, i) => `pending ${s} ${i + 1}/9`),
      'success deployed in 4.2s',
    ]);
    for (const s of h.sim.received) {
      expect(s).to.include({ forge: 'github', repo: 'acme/shop', sha: SHA, context: 'norn/deploy/shop', targetUrl: `${PUBLIC_URL}/sagas/${sagaId}` });
    }
    await until('every status recorded', async () => (await sagaActions(h, sagaId)).length === 11);
    const reported = await sagaActions(h, sagaId);
    expect(reported.every((e) => e.action === 'status.reported')).to.equal(true);
    expect(reported.at(-1)!.metadata).to.include({ forge: 'github', state: 'success', context: 'norn/deploy/shop', commitSha: SHA });
    // Recording a status appends events; none of them became a status of its own.
    expect(await h.store.knex('status_outbox').count({ n: '*' }).first()).to.deep.equal({ n: 11 });
  });

  it('a failing deploy on Gitea ends in failure naming the failed step, trimmed to fit', async () => {
    await h.newOutbox().start();
    await enqueue(h, { sha: SHA, forge: 'gitea', repo: 'acme/shop' });
    await received(h, 1);
    const deploy = await claim(h);
    await startStep(h, deploy, 'clone');
    await received(h, 2);
    await startStep(h, deploy, 'build');
    await received(h, 3);
    await startStep(h, deploy, 'cleanup');
    await received(h, 4);
    const error = `docker build exited 1: ${'x'.repeat(400)}`;
    await fail(h, deploy, 'build', error);
    await received(h, 5);
    expect(h.sim.received.map((s) => s.state)).to.deep.equal(['pending', 'pending', 'pending', 'pending', 'failure']);
    const final = h.sim.received.at(-1)!;
    expect(final.forge).to.equal('gitea');
    expect(final.description.startsWith('build failed: docker build exited 1')).to.equal(true);
    expect(Array.from(final.description).length).to.equal(255);
  });

  it("GitHub gets a failure description within its 140 characters", async () => {
    await h.newOutbox().start();
    await enqueue(h, { sha: SHA });
    const deploy = await claim(h);
    await fail(h, deploy, 'migrate', `relation "orders" already exists ${'y'.repeat(300)}`);
    await until('the failure at the forge', () => h.sim.received.some((s) => s.state === 'failure'));
    expect(Array.from(h.sim.received.at(-1)!.description)).to.have.length(140);
    expect(h.sim.received.at(-1)!.description).to.match(/^migrate failed: relation "orders" already exists y+…$/);
  });

  it('a superseded deploy ends in error on its commit; the newer commit gets its own statuses', async () => {
    await h.newOutbox().start();
    const older = '2'.repeat(40);
    await enqueue(h, { sha: older });
    await enqueue(h, { sha: SHA });
    await received(h, 2);
    await claim(h); // claims the newest; the older one ends superseded
    await until('the older commit to end in error', () => h.sim.statusesFor(older).some((s) => s.state === 'error'));
    expect(h.sim.statusesFor(older).map((s) => `${s.state} ${s.description}`)).to.deep.equal(['pending queued', 'error superseded by a newer push']);
    expect(h.sim.statusesFor(SHA).map((s) => s.state)).to.deep.equal(['pending']);
  });

  it('a preflight reports under norn/preflight/<app>', async () => {
    await h.newOutbox().start();
    await enqueue(h, { sha: SHA, kind: 'preflight' });
    await received(h, 1);
    expect(h.sim.received[0]!.context).to.equal('norn/preflight/shop');
  });

  it('after a backlog only the latest pending and the final state are sent', async () => {
    const sagaId = await enqueue(h, { sha: SHA });
    const deploy = await claim(h);
    for (const step of STEP_NAMES) await startStep(h, deploy, step);
    await succeed(h, deploy);
    await h.newOutbox().start(); // the forge was out of reach until now
    await until('the backlog to drain', async () => !(await h.store.knex('status_outbox').where({ status: 'queued' }).first()));
    expect(h.sim.received.map((s) => `${s.state} ${s.description}`)).to.deep.equal(['success deployed in 4.2s']);
    const skipped = await h.store.knex('status_outbox').where({ saga_id: sagaId, status: 'skipped' }).count({ n: '*' }).first();
    expect(skipped).to.deep.equal({ n: 10 });
  });

  it('an identical consecutive status is neither enqueued nor sent twice', async () => {
    const outbox = h.newOutbox();
    await outbox.start();
    const sagaId = await enqueue(h, { sha: SHA });
    await received(h, 1);
    const deploy = await claim(h);
    await startStep(h, deploy, 'clone');
    await received(h, 2);
    await startStep(h, deploy, 'clone'); // e.g. a runner recording the same start again
    await outbox.idle();
    expect(await h.store.knex('status_outbox').where({ saga_id: sagaId }).count({ n: '*' }).first()).to.deep.equal({ n: 2 });
    await startStep(h, deploy, 'build');
    await received(h, 3);
    expect(h.sim.received.map((s) => s.description)).to.deep.equal(['queued', 'clone 1/9', 'build 2/9']);
  });

  it('a queued status identical to the last delivered one is skipped, not sent', async () => {
    const outbox = h.newOutbox();
    await outbox.start();
    const sagaId = await enqueue(h, { sha: SHA });
    await received(h, 1);
    const { saga_id, app, forge, repo_full_name, commit_sha, context, state, description, target_url } = await h.store.knex<OutboxRow>('status_outbox').where({ saga_id: sagaId }).first().then((r) => r!);
    await insertRow(h.store.knex, { saga_id, app, forge, repo_full_name, commit_sha, context, state, description, target_url, event_seq: null }, new Date().toISOString());
    outbox.wake();
    await outbox.idle();
    expect(h.sim.received).to.have.length(1);
    expect(await h.store.knex('status_outbox').where({ saga_id: sagaId }).pluck('status')).to.deep.equal(['delivered', 'skipped']);
  });

  it('manual deploys, the generic hook and forges without a token get no statuses', async () => {
    await h.newOutbox().start();
    const manual = await enqueue(h, { sha: SHA, forge: null, trigger: 'manual' });
    const generic = await enqueue(h, { sha: '3'.repeat(40), forge: 'generic', app: 'other' });
    const gitlab = await enqueue(h, { sha: '4'.repeat(40), forge: 'gitlab', app: 'third' }); // no GitLab token here
    for (const d of [await claim(h), await claim(h), await claim(h)]) await succeed(h, d);
    await h.newOutbox().idle();
    expect(h.sim.requests).to.deep.equal([]);
    for (const id of [manual, generic, gitlab]) expect(await sagaActions(h, id)).to.deep.equal([]);
    expect(await h.store.knex('status_outbox').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
  });
});
