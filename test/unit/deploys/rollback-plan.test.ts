// Which version a rollback brings back, and what it says about the database, from an app's deploy history.
import { expect } from 'chai';
import type { DeployRecord } from '../../../src/deploys/deploy-record.js';
import type { ImagePresence } from '../../../src/deploys/image-presence.js';
import { RollbackPlanner } from '../../../src/deploys/rollback-plan.js';
import { InvalidInputError } from '../../../src/errors.js';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import type { SagaAction } from '../../../src/events/saga-actions.js';
import type { Snapshot, SnapshotRestore } from '../../../src/snapshots/snapshot-store.js';

let clock = 0;
const at = () => new Date(Date.UTC(2026, 11, 1, 0, 0, clock++)).toISOString();

/** An app's history, written oldest first as it happened; the planner reads it newest first. */
class History {
  readonly deploys: DeployRecord[] = [];
  readonly events = new Map<string, SagaEvent[]>();
  readonly snapshots: Snapshot[] = [];
  readonly restores: SnapshotRestore[] = [];
  presence: ImagePresence['status'] = 'registry';

  deploy(id: string, opts: { image?: string; status?: DeployRecord['status']; kind?: DeployRecord['kind']; migrations?: string[]; restores?: string } = {}): DeployRecord {
    const time = at();
    const d: DeployRecord = {
      id,
      app: 'shop',
      kind: opts.kind ?? 'deploy',
      ref: 'refs/heads/main',
      commitSha: `${id.replace(/[^0-9a-f]/g, '0').padEnd(40, '0')}`.slice(0, 40),
      trigger: 'push',
      deliveryId: null,
      forge: 'github',
      repoFullName: 'acme/shop',
      cloneUrl: 'https://example.com/shop.git',
      prNumber: null,
      status: opts.status ?? 'succeeded',
      currentStep: null,
      error: null,
      imageTag: opts.image ?? `reg/shop:${id}`,
      leaseOwner: null,
      leaseExpiresAt: null,
      createdAt: time,
      startedAt: time,
      finishedAt: time,
    };
    this.deploys.push(d);
    const events: SagaEvent[] = [];
    if (opts.migrations) {
      const ts = `2026120${this.snapshots.length}T000000Z`;
      this.snapshots.push({ id: `snap-${id}`, app: 'shop', database: 'shopdb', commitSha: d.commitSha, sagaId: id, kind: 'deploy', size: 1, path: `/snap/${ts}.dump`, ts, createdAt: time, deletedAt: null });
      events.push(event(id, 'snapshot.created', { ts }));
      for (const file of opts.migrations) events.push(event(id, 'migration.applied', { file }));
    }
    if (opts.restores) events.push(event(id, 'rollback.planned', { restoresSagaId: opts.restores }));
    this.events.set(id, events);
    return d;
  }

  restore(snapshotOf: string): void {
    const snapshot = this.snapshots.find((s) => s.sagaId === snapshotOf)!;
    this.restores.push({ id: `r-${snapshotOf}`, app: 'shop', snapshotId: snapshot.id, safetySnapshotId: null, status: 'succeeded', error: null, startedAt: at(), finishedAt: at() });
  }

  planner(): RollbackPlanner {
    return new RollbackPlanner({
      history: async () => [...this.deploys].reverse(),
      events: async (id) => this.events.get(id) ?? [],
      snapshots: async () => this.snapshots,
      restores: async () => this.restores,
      checkImage: async () => (this.presence === 'unknown' ? { status: 'unknown', registry: 'reg', reason: 'registry down' } : { status: this.presence, registry: 'reg' }),
    });
  }
}

function event(sagaId: string, action: SagaAction, metadata: Record<string, unknown>): SagaEvent {
  return { id: `${sagaId}-${action}`, sagaId, seq: clock, timestamp: at(), source: 'pipeline', app: 'shop', category: 'step', action, message: action, metadata };
}

async function refusal(p: Promise<unknown>): Promise<InvalidInputError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'the planner should have refused').to.be.instanceOf(InvalidInputError);
  return err as InvalidInputError;
}

describe('rollback plan', () => {
  it('brings back the successful deploy before the current one, skipping failed deploys and preflights', async () => {
    const h = new History();
    h.deploy('aaaaaaa1');
    h.deploy('aaaaaaa2');
    h.deploy('aaaaaaa3', { status: 'failed' });
    h.deploy('aaaaaaa4', { kind: 'preflight' });
    h.deploy('aaaaaaa5');
    const plan = await h.planner().plan({ app: 'shop', restoreSnapshot: false });
    expect(plan.current).to.include({ sagaId: 'aaaaaaa5', image: 'reg/shop:aaaaaaa5' });
    expect(plan.target).to.include({ sagaId: 'aaaaaaa2', image: 'reg/shop:aaaaaaa2' });
    expect(plan.database).to.include({ migrated: false, restorable: false });
    expect(plan.database.summary).to.contain('no migration ran since saga aaaaaaa2');
  });

  it('says when a deploy of the app is running, which the rollback will wait for', async () => {
    const h = new History();
    h.deploy('aaaaaaa1');
    h.deploy('aaaaaaa2');
    expect((await h.planner().plan({ app: 'shop', restoreSnapshot: false })).waitsFor).to.equal(null);
    h.deploy('aaaaaaa3', { status: 'running' });
    const plan = await h.planner().plan({ app: 'shop', restoreSnapshot: false });
    expect(plan.waitsFor).to.deep.equal({ sagaId: 'aaaaaaa3', kind: 'deploy', status: 'running' });
    expect(plan.target.sagaId).to.equal('aaaaaaa1');
  });

  it('goes one further back when what runs is itself a rollback, instead of returning to the version rolled away from', async () => {
    const h = new History();
    h.deploy('aaaaaaa1');
    h.deploy('aaaaaaa2');
    h.deploy('aaaaaaa3');
    h.deploy('bbbbbbb1', { kind: 'rollback', image: 'reg/shop:aaaaaaa2', restores: 'aaaaaaa2' });
    const plan = await h.planner().plan({ app: 'shop', restoreSnapshot: false });
    expect(plan.current.sagaId).to.equal('bbbbbbb1');
    expect(plan.target.sagaId).to.equal('aaaaaaa1');
  });

  it('takes --to as a saga id, a unique prefix of one, or an image the app deployed, and refuses anything else naming the field', async () => {
    const h = new History();
    h.deploy('aaaaaaa1-0000');
    h.deploy('aaaaaaa2-0000', { status: 'failed' });
    h.deploy('cccccccc-0001');
    h.deploy('cccccccc-0002');
    const planner = h.planner();
    expect((await planner.plan({ app: 'shop', to: 'aaaaaaa1-0000', restoreSnapshot: false })).target.sagaId).to.equal('aaaaaaa1-0000');
    expect((await planner.plan({ app: 'shop', to: 'aaaaaaa1', restoreSnapshot: false })).target.sagaId).to.equal('aaaaaaa1-0000');
    expect((await planner.plan({ app: 'shop', to: 'reg/shop:cccccccc-0001', restoreSnapshot: false })).target.sagaId).to.equal('cccccccc-0001');

    const arbitrary = await refusal(planner.plan({ app: 'shop', to: 'evil.example/miner:latest', restoreSnapshot: false }));
    expect(arbitrary).to.include({ field: 'to', status: 400 });
    expect(arbitrary.reason).to.contain('neither a saga nor an image that shop deployed');
    expect(await refusal(planner.plan({ app: 'shop', to: 'aaaaaaa2', restoreSnapshot: false }))).to.include({ field: 'to', status: 400 });
    expect((await refusal(planner.plan({ app: 'shop', to: 'cccccccc', restoreSnapshot: false }))).reason).to.contain('names 2 sagas');
    expect(await refusal(planner.plan({ app: 'shop', to: 'bad image\u001b[2J', restoreSnapshot: false }))).to.include({ field: 'to', status: 400 });
    expect(await refusal(planner.plan({ app: 'shop', to: 42, restoreSnapshot: false }))).to.include({ field: 'to', status: 400 });
    const same = await refusal(planner.plan({ app: 'shop', to: 'cccccccc-0002', restoreSnapshot: false }));
    expect(same).to.include({ field: 'to', status: 409 });
    expect(same.reason).to.contain('is what shop runs now');
  });

  it('refuses with 409 when there is nothing to roll back from or to, or the image is gone', async () => {
    const h = new History();
    expect(await refusal(h.planner().plan({ app: 'shop', restoreSnapshot: false }))).to.include({ field: 'app', status: 409 });
    h.deploy('aaaaaaa1');
    expect((await refusal(h.planner().plan({ app: 'shop', restoreSnapshot: false }))).reason).to.contain('no successful deploy of shop before saga aaaaaaa1');
    h.deploy('aaaaaaa2');
    h.presence = 'missing';
    const gone = await refusal(h.planner().plan({ app: 'shop', restoreSnapshot: false }));
    expect(gone).to.include({ field: 'to', status: 409 });
    expect(gone.reason).to.contain('reg/shop:aaaaaaa1').and.contain('no longer exists');
    h.presence = 'unknown';
    expect((await h.planner().plan({ app: 'shop', restoreSnapshot: false })).image).to.deep.include({ status: 'unknown', reason: 'registry down' });
  });

  it('offers the snapshot taken before the migrations of the deploy being rolled back', async () => {
    const h = new History();
    h.deploy('aaaaaaa1', { migrations: ['0001_items.sql'] });
    h.deploy('aaaaaaa2', { migrations: ['0002_notes.sql', '0003_tags.sql'] });
    const plan = await h.planner().plan({ app: 'shop', restoreSnapshot: true });
    expect(plan.database).to.include({ migrated: true, restorable: true, restoreCommand: 'norn snapshots shop restore 20261201T000000Z --yes' });
    expect(plan.database.snapshot).to.include({ ts: '20261201T000000Z', sagaId: 'aaaaaaa2', database: 'shopdb' });
    expect(plan.database.runs.map((r) => r.files)).to.deep.equal([['0002_notes.sql', '0003_tags.sql']]);
    expect(plan.database.summary).to.contain('saga aaaaaaa2 (succeeded) applied 0002_notes.sql, 0003_tags.sql');
  });

  it('counts a deploy that migrated and then failed, and refuses to guess when a later migration ran on top of the snapshot', async () => {
    const h = new History();
    h.deploy('aaaaaaa1');
    h.deploy('aaaaaaa2', { migrations: ['0002_notes.sql'] });
    h.deploy('aaaaaaa3', { migrations: ['0003_tags.sql'], status: 'failed' });
    const planner = h.planner();
    const plan = await planner.plan({ app: 'shop', restoreSnapshot: false });
    expect(plan.target.sagaId).to.equal('aaaaaaa1');
    expect(plan.database).to.include({ migrated: true, restorable: false, snapshot: null });
    expect(plan.database.runs.map((r) => r.sagaId)).to.deep.equal(['aaaaaaa2', 'aaaaaaa3']);
    expect(plan.database.summary).to.contain('later migrations ran on top of snapshot 20261200T000000Z').and.contain('saga aaaaaaa3 (failed) applied 0003_tags.sql');
    const refused = await refusal(planner.plan({ app: 'shop', restoreSnapshot: true }));
    expect(refused).to.include({ field: 'restoreSnapshot', status: 409 });
    expect(refused.reason).to.contain('Norn does not guess');
  });

  it('knows a restore undid the migrations of the deploy whose snapshot it restored, and of every deploy after it', async () => {
    const h = new History();
    h.deploy('aaaaaaa1');
    h.deploy('aaaaaaa2', { migrations: ['0002_notes.sql'] });
    h.deploy('aaaaaaa3', { migrations: ['0003_tags.sql'] });
    h.restore('aaaaaaa3');
    h.deploy('aaaaaaa4');
    const plan = await h.planner().plan({ app: 'shop', to: 'aaaaaaa1', restoreSnapshot: true });
    expect(plan.database.runs.map((r) => r.sagaId)).to.deep.equal(['aaaaaaa2']);
    expect(plan.database.snapshot?.sagaId).to.equal('aaaaaaa2');
  });

  it('offers nothing when the snapshot is gone, or a restore makes the database state unknowable', async () => {
    const h = new History();
    h.deploy('aaaaaaa1', { migrations: ['0001.sql'] });
    h.deploy('aaaaaaa2', { migrations: ['0002.sql'] });
    h.snapshots[1] = { ...h.snapshots[1]!, deletedAt: at() };
    const gone = await h.planner().plan({ app: 'shop', restoreSnapshot: false });
    expect(gone.database).to.include({ migrated: true, restorable: false });
    expect(gone.database.summary).to.contain('no longer kept');

    h.restore('aaaaaaa1');
    h.deploy('aaaaaaa3');
    const unknown = await h.planner().plan({ app: 'shop', to: 'aaaaaaa2', restoreSnapshot: false });
    expect(unknown.database).to.include({ migrated: true, restorable: false });
    expect(unknown.database.summary).to.contain('cannot tell which migrations the database holds');
  });
});
