// `norn snapshots` against the running service and a real PostgreSQL: a deploy's snapshot listed, and restores
// that replace the app's data only after the operator typed the app's name (or gave --yes).
import { expect } from 'chai';
import { snapshotsCommandWith } from '../../src/cli/snapshots-command.js';
import { snapshotTimestamp } from '../../src/snapshots/take-snapshot.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { createItemsDatabase, type ItemsDatabase } from '../support/items-database.js';
import { testDatabaseUrl } from '../support/services.js';
import { eventually, specFor, startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';
import { scriptedPerson } from '../fakes/scripted-person.js';

describe('norn snapshots against the running service and PostgreSQL', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let db: ItemsDatabase;
  let svc: TestService;
  let env: Record<string, string>;
  let commitSha: string;
  let ts: string;

  const auth = () => ({ authorization: `Bearer ${env.NORN_API_TOKEN}`, 'content-type': 'application/json' });

  before(async () => {
    db = await createItemsDatabase('norn_cli_snap');
    repo = createTestRepo('shop');
    commitSha = repo.commit({ 'README.md': 'shop' }, 'first');
    const database = db.name;
    svc = await startTestService({
      specs: { shop: specFor('shop', repo.url, { infrastructure: { postgres: { database } } }) },
      env: { NORN_API_TOKEN: 'ops-token', NORN_POSTGRES_URL: testDatabaseUrl() },
    });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'ops-token' };
    const res = await fetch(`${svc.url}/api/apps/shop/deploy`, { method: 'POST', headers: auth(), body: '{}' });
    expect(res.status).to.equal(202);
    const { sagaId } = ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!;
    await eventually('the deploy to end', async () => {
      const { saga } = (await (await fetch(`${svc.url}/api/sagas/${sagaId}`, { headers: auth() })).json()) as { saga: { status: string; error: string | null } };
      if (saga.status === 'failed') throw new Error(`deploy failed: ${saga.error}`);
      return saga.status === 'succeeded' ? true : undefined;
    });
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
    repo?.remove();
  });

  it('lists the snapshot the deploy took: timestamp, commit, size, file', async () => {
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop'], env, c.io), c.err()).to.equal(0);
    const [header, row, ...rest] = c.lines();
    expect(header).to.match(/^TIMESTAMP {9}COMMIT {8}\s+SIZE {2}FILE$/);
    expect(rest).to.deep.equal([]);
    const cells = row!.split(/\s+/);
    ts = cells[0]!;
    expect(ts).to.match(/^\d{8}T\d{6}Z$/);
    expect(cells[1]).to.equal(commitSha.slice(0, 12));
    expect(`${cells[2]} ${cells[3]}`).to.match(/^\d+(\.\d)? (B|KiB)$/);
    expect(cells[4]).to.match(new RegExp(`/shop.*${ts}.*$`));
  });

  it('refuses a restore without a terminal or --yes, and the data stays', async () => {
    await db.sql("delete from items where name = 'pear'");
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'restore', ts], env, c.io)).to.equal(1);
    expect(c.err()).to.equal(`norn: refused: this would replace the data in shop's database with snapshot ${ts}; no terminal to confirm on, so repeat with --yes\n`);
    expect(await db.items()).to.deep.equal(['apple']);
  });

  it('asks with the database named and restores nothing when another name is typed', async () => {
    const p = scriptedPerson('blog');
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: p })(['shop', 'restore', ts], env, c.io)).to.equal(1);
    expect(p.questions[0]).to.contain(`replace the data in database ${new URL(db.url).pathname.slice(1)} of shop with snapshot ${ts} (commit ${commitSha.slice(0, 12)}`);
    expect(await db.items()).to.deep.equal(['apple']);
  });

  it('restores once the app name is typed, after a safety snapshot with --pre-restore', async () => {
    // Snapshot timestamps have whole seconds and are unique per app: keep the safety snapshot out of the deploy's second.
    await eventually('the clock to pass the deploy snapshot\'s second', async () => (snapshotTimestamp(new Date()) > ts ? true : undefined));
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson('shop') })(['shop', 'restore', ts, '--pre-restore'], env, c.io), c.err()).to.equal(0);
    expect(await db.items()).to.deep.equal(['apple', 'pear']);
    expect(c.lines()[0]).to.match(new RegExp(`^restored shop's database norn_cli_snap_\\w+ from snapshot ${ts} \\(commit ${commitSha.slice(0, 12)}, `));
    expect(c.lines()[1]).to.match(/^ {2}safety snapshot of the data it replaced: \d{8}T\d{6}Z \(\/.+\)$/);
    expect(c.lines()[2]).to.match(/^ {2}restore [0-9a-f-]{36} succeeded at /);

    const list = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop'], env, list.io)).to.equal(0);
    expect(list.lines().filter((l) => l.endsWith('(pre-restore)'))).to.have.length(1);
  });

  it('restores with --yes without asking', async () => {
    await db.sql("insert into items values ('plum')");
    const p = scriptedPerson('x');
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: p })(['shop', 'restore', ts, '--yes'], env, c.io), c.err()).to.equal(0);
    expect(p.questions).to.deep.equal([]);
    expect(await db.items()).to.deep.equal(['apple', 'pear']);
  });

  it('says when the snapshot does not exist, asked or not', async () => {
    const asked = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson('shop') })(['shop', 'restore', '20000101T000000Z'], env, asked.io)).to.equal(1);
    expect(asked.err()).to.equal('norn: shop has no snapshot 20000101T000000Z (norn snapshots shop lists them)\n');
    const forced = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['shop', 'restore', '20000101T000000Z', '--yes'], env, forced.io)).to.equal(1);
    expect(forced.err()).to.match(/\nnorn: snapshot shop\/20000101T000000Z not found\n$/);
  });

  it('says when the app is unknown', async () => {
    const c = captureIo();
    expect(await snapshotsCommandWith({ confirmer: scriptedPerson(null) })(['blog'], env, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: app blog not found\n');
  });
});
