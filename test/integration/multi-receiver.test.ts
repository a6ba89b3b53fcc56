// Two receivers on one PostgreSQL (one in this process, one a separate `norn serve` process): deliveries are
// deduplicated across them, one deploy per app runs at a time across both, every WebSocket client sees every
// event whichever receiver produced it, and deploys a killed receiver held end as interrupted once its lease runs
// out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import WebSocket from 'ws';
import pg from 'pg';
import { startChildReceiver, type ChildReceiver } from '../support/child-receiver.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { createScratchDatabase, requirePostgres, type ScratchDatabase } from '../support/services.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

describe('several receivers on one PostgreSQL', function () {
  this.timeout(120_000);
  let db: ScratchDatabase;
  let repo: TestRepo;
  let a: TestService;
  let b: ChildReceiver;

  before(async () => {
    await requirePostgres();
    db = await createScratchDatabase('norn_multi');
    repo = createTestRepo('multi');
    a = await startTestService({ env: { NORN_DATABASE_URL: db.url, NORN_LEASE_SECONDS: '2' }, specs: { shop: specFor('shop', repo.url), blog: specFor('blog', repo.url) } });
    b = await startChildReceiver({
      NORN_DATABASE_URL: db.url,
      NORN_APPS_DIR: a.appsDir,
      NORN_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'norn-b-')),
      NORN_WEBHOOK_SECRET: TEST_SECRET,
      NORN_LEASE_SECONDS: '2',
      NORN_POLL_INTERVAL_MS: '50',
    });
  });
  after(async () => {
    await b?.kill('SIGKILL');
    await a?.close();
    await db?.drop();
    repo?.remove();
  });

  it('dedupes, serializes per app across receivers, relays events, and recovers from a killed receiver', async () => {
    // A WebSocket client on B, while all deliveries go to A: what it sees of A's work came through the relay.
    const seenOnB: { type: string; seq: number; payload: { sagaId: string } }[] = [];
    const ws = new WebSocket(`${b.url.replace('http', 'ws')}/ws`, { headers: b.authHeaders });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('message', (m) => seenOnB.push(JSON.parse(String(m))));

    const sha0 = repo.commit({ 'a.txt': 'zero' });
    const same = githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: sha0 });
    const answers = await Promise.all([post(`${a.url}/api/webhooks/github`, same), post(`${b.url}/api/webhooks/github`, same), post(`${a.url}/api/webhooks/github`, same), post(`${b.url}/api/webhooks/github`, same)]);
    expect(answers.filter((x) => x.status === 202)).to.have.length(1);

    const sagaIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const sha = repo.commit({ 'a.txt': `n${i}` });
      const res = await post(`${a.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
      sagaIds.push(...(res.body.deploys as { sagaId: string }[]).map((d) => d.sagaId));
      if (i === 3) await b.kill('SIGKILL'); // B dies wherever it is, possibly mid-deploy
    }

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    type Row = { id: string; app: string; status: string; started_at: string | null; finished_at: string | null };
    const rows = await eventually('every deploy to end, including any B held when it was killed', async () => {
      const r = await client.query<Row>('select id, app, status, started_at, finished_at from deploys order by started_at');
      return r.rows.every((d) => !['queued', 'running'].includes(d.status)) ? r.rows : undefined;
    }, 60_000);
    await client.end();
    expect(rows.filter((d) => ['queued', 'running'].includes(d.status))).to.deep.equal([]);
    // Never two runs of one app overlapping in time, whichever receiver ran them.
    for (const app of ['shop', 'blog']) {
      const runs = rows.filter((d) => d.app === app && d.started_at).map((d) => [Date.parse(d.started_at!), Date.parse(d.finished_at!)] as const);
      for (let i = 1; i < runs.length; i++) expect(runs[i]![0], `${app} runs overlap`).to.be.at.least(runs[i - 1]![1]);
    }
    // B's client saw the queued events A produced before B was killed (relayed over LISTEN/NOTIFY).
    ws.close();
    const queuedSeen = new Set(seenOnB.filter((e) => e.type === 'deploy.queued').map((e) => e.payload.sagaId));
    expect(queuedSeen.size).to.be.at.least(2);
    expect(sagaIds.slice(0, 2).every((id) => queuedSeen.has(id))).to.equal(true);
  });
});
