// Load: unique valid deliveries at a steady 500 a second for 60 seconds (nine in ten for a repository no app
// tracks, one in ten for the tracked one with "[skip ci]", so nothing deploys), then identical deliveries sent 50
// at a time. Every delivery is answered 2xx and recorded exactly once; the identical ones queue one deploy.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const RATE = 500;
const SECONDS = 60;
const TOTAL = RATE * SECONDS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = () => randomBytes(20).toString('hex');

describe(`load: ${TOTAL} unique deliveries at ${RATE}/s for ${SECONDS} s`, function () {
  this.timeout(180_000);
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo('load');
    svc = await startTestService({ specs: { shop: specFor('shop', repo.url) }, env: { NORN_LOG_LEVEL: 'warn' } });
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  const ledger = async (where: Record<string, string> = {}) => Number((await svc.service.store.knex('deliveries').where(where).count({ n: '*' }).first())?.n);

  it('answers every one 2xx and records exactly as many in the ledger', async () => {
    const statuses = new Map<string, number>();
    const latencies: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let maxInFlight = 0;
    const fire = (i: number) => {
      const skip = i % 10 === 0;
      const delivery = skip
        ? githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: sha(), message: 'docs only [skip ci]' })
        : githubPush({ secret: TEST_SECRET, repoUrl: `https://git.example/other/repo-${i % 97}.git`, sha: sha() });
      const started = performance.now();
      const p: Promise<void> = post(`${svc.url}/api/webhooks/github`, delivery)
        .then((res) => `${res.status} ${String(res.body.verdict)}`, (err: Error) => `error ${err.message}`)
        .then((key) => {
          latencies.push(performance.now() - started);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          inFlight.delete(p);
        });
      inFlight.add(p);
      maxInFlight = Math.max(maxInFlight, inFlight.size);
    };

    // Open loop: request i is due at i / RATE seconds, whatever the answers do; a late timer catches up.
    const t0 = performance.now();
    let sent = 0;
    while (sent < TOTAL) {
      const due = Math.min(TOTAL, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
      while (sent < due) fire(sent++);
      await sleep(5);
    }
    const sendingSeconds = (performance.now() - t0) / 1000;
    await Promise.all(inFlight);

    latencies.sort((a, b) => a - b);
    const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
    const figures = `${[...statuses].map(([k, n]) => `${k}×${n}`).join(', ')}; p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max in flight ${maxInFlight}`;
    expect(sendingSeconds, figures).to.be.within(SECONDS - 0.1, SECONDS + 1);
    expect([...statuses.keys()], figures).to.have.members(['200 no-match', '200 ignored']);
    expect(statuses.get('200 no-match'), figures).to.equal((TOTAL * 9) / 10);
    expect(statuses.get('200 ignored'), figures).to.equal(TOTAL / 10);

    expect(await ledger(), figures).to.equal(TOTAL);
    expect(await ledger({ verdict: 'no-match' })).to.equal((TOTAL * 9) / 10);
    expect(await ledger({ verdict: 'ignored' })).to.equal(TOTAL / 10);
    const deploys = Number((await svc.service.store.knex('deploys').count({ n: '*' }).first())?.n);
    expect(deploys).to.equal(0);
  });

  it('queues exactly one deploy for identical deliveries sent 50 at a time', async () => {
    const before = await ledger();
    for (let round = 0; round < 5; round++) {
      const commit = repo.commit({ 'load.txt': `round ${round}` });
      const delivery = githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: commit });
      const answers = await Promise.all(Array.from({ length: 50 }, () => post(`${svc.url}/api/webhooks/github`, delivery)));
      expect(answers.filter((a) => a.status === 202), `round ${round}`).to.have.length(1);
      expect(answers.filter((a) => a.status === 200 && a.body.duplicate === true), `round ${round}`).to.have.length(49);
      const sagas = new Set(answers.flatMap((a) => (a.body.deploys as { sagaId: string }[]).map((d) => d.sagaId)));
      expect(sagas.size, `round ${round}: saga ids answered`).to.equal(1);
      const rows = await svc.service.store.knex('deploys').where({ commit_sha: commit }).select('id');
      expect(rows.map((r: { id: string }) => r.id), `round ${round}: deploys queued`).to.deep.equal([...sagas]);
    }
    // The duplicates were answered from the ledger, not recorded again.
    expect(await ledger()).to.equal(before + 5);
    await svc.service.scheduler.idle();
  });
});
