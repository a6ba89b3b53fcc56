// From a signed push to the saga's clone and cleanup events, through the real HTTP server, a real bare
// repository, and each store.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import WebSocket from 'ws';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, giteaPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { requirePostgres } from '../support/services.js';
import { expectSubsequence } from '../support/subsequence.js';

interface SagaResponse {
  saga: { status: string; commitSha: string; error: string | null };
  events: { action: string; message: string; seq: number; metadata: Record<string, unknown> }[];
}

async function sagaWhenEnded(svc: TestService, sagaId: string): Promise<SagaResponse> {
  return eventually(`saga ${sagaId} to end`, async () => {
    const res = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as SagaResponse;
    return ['succeeded', 'failed', 'interrupted', 'superseded'].includes(res.saga?.status) ? res : undefined;
  });
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a signed push becomes a deploy (${store})`, function () {
    this.timeout(60_000);
    let repo: TestRepo;
    let svc: TestService;

    before(async () => {
      if (store === 'postgres') await requirePostgres();
      repo = createTestRepo('shop');
    });
    beforeEach(async () => {
      svc = await startTestService({ store, specs: { shop: specFor('shop', repo.url) } });
    });
    afterEach(async () => svc.close());
    after(() => repo.remove());

    it('answers 202, clones exactly the pushed commit (not the branch tip) and cleans up', async () => {
      const first = repo.commit({ 'README.md': 'one' }, 'first');
      repo.commit({ 'README.md': 'two' }, 'second'); // the branch tip moves on before the deploy runs
      const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: first }));
      expect(res.status).to.equal(202);
      const deploys = res.body.deploys as { app: string; sagaId: string; commitSha: string }[];
      expect(deploys).to.have.length(1);
      expect(deploys[0]).to.include({ app: 'shop', commitSha: first });

      const saga = await sagaWhenEnded(svc, deploys[0]!.sagaId);
      expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
      const actions = saga.events.map((e) => `${e.action}${e.metadata.step ? `:${e.metadata.step}` : ''}`);
      expectSubsequence(actions, ['deploy.queued', 'deploy.start', 'step.start:clone', 'step.progress:clone', 'step.complete:clone', 'step.start:cleanup', 'step.complete:cleanup', 'deploy.complete']);
      expect(saga.events.find((e) => e.action === 'step.progress')!.message).to.contain(first.slice(0, 12));
      const seqs = saga.events.map((e) => e.seq);
      expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
      expect(fs.readdirSync(path.join(svc.dataDir, 'work'))).to.deep.equal([]);
    });

    it('records a delivery for another branch with the reason nothing deployed', async () => {
      const sha = repo.commit({ 'x.txt': 'x' }, 'feature work', 'feature/x');
      const res = await post(`${svc.url}/api/webhooks`, giteaPush({ secret: TEST_SECRET, repoUrl: repo.url, sha, ref: 'refs/heads/feature/x' }));
      expect(res.status).to.equal(200);
      expect(res.body.verdict).to.equal('no-match');
      const detail = (await (await svc.api(`/api/deliveries/${res.body.deliveryId}`)).json()) as { delivery: { forge: string; reason: string; trace: { apps: { app: string; reason: string }[] } } };
      expect(detail.delivery.forge).to.equal('gitea');
      expect(detail.delivery.trace.apps[0]!.reason).to.contain('feature/x is not the tracked branch main');
    });

    it('answers a redelivered id with the original result and queues nothing more, even when sent concurrently', async () => {
      const sha = repo.commit({ 'c.txt': String(Date.now()) });
      const d = githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha });
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(`${svc.url}/api/webhooks/github`, d)));
      expect(answers.filter((a) => a.status === 202)).to.have.length(1);
      expect(answers.filter((a) => a.status === 200 && a.body.duplicate === true)).to.have.length(7);
      const sagaIds = new Set(answers.flatMap((a) => (a.body.deploys as { sagaId: string }[]).map((x) => x.sagaId)));
      expect(sagaIds.size).to.equal(1);
      const deploys = (await (await svc.api(`/api/deploys?app=shop`)).json()) as { deploys: unknown[] };
      expect(deploys.deploys).to.have.length(1);
    });

    it('refuses a bad signature with 401, queues nothing and records the attempt', async () => {
      const sha = repo.commit({ 'd.txt': 'd' });
      const d = githubPush({ secret: 'not-the-secret', repoUrl: repo.url, sha });
      const res = await post(`${svc.url}/api/webhooks/github`, d);
      expect(res.status).to.equal(401);
      const list = (await (await svc.api(`/api/deliveries`)).json()) as { deliveries: { verdict: string; statusCode: number }[] };
      expect(list.deliveries[0]).to.include({ verdict: 'rejected', statusCode: 401 });
      const deploys = (await (await svc.api(`/api/deploys`)).json()) as { deploys: unknown[] };
      expect(deploys.deploys).to.have.length(0);
      // The genuine delivery with the same id is still accepted afterwards.
      const genuine = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha, deliveryId: d.headers['x-github-delivery'] }));
      expect(genuine.status).to.equal(202);
    });

    it('streams deploy.step events live and replays what a client missed with ?since=', async () => {
      const sha = repo.commit({ 'e.txt': 'e' });
      const seen: { type: string; seq: number; payload: Record<string, unknown> }[] = [];
      const ws = new WebSocket(`${svc.url.replace('http', 'ws')}/ws?app=shop`, { headers: svc.authHeaders });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      // Every envelope must come as a text frame, live or replayed: a browser hands a binary one over as a Blob.
      let binaryFrames = 0;
      ws.on('message', (m, isBinary) => {
        if (isBinary) binaryFrames++;
        seen.push(JSON.parse(String(m)));
      });
      const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
      const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
      await sagaWhenEnded(svc, sagaId);
      await eventually('deploy.completed on the socket', async () => (seen.some((e) => e.type === 'deploy.completed') ? true : undefined));
      ws.close();
      const steps = seen.filter((e) => e.type === 'deploy.step').map((e) => `${e.payload.step}:${e.payload.status}`);
      expectSubsequence(steps, ['clone:running', 'clone:complete', 'cleanup:running', 'cleanup:complete']);
      // The spec has no database: those steps say so rather than vanish.
      expectSubsequence(steps, ['snapshot:skipped', 'migrate:skipped']);

      // A client that saw only up to the first step event asks for the rest and gets exactly the rest.
      const cut = seen.find((e) => e.type === 'deploy.step')!.seq;
      const replayed: { seq: number }[] = [];
      const again = new WebSocket(`${svc.url.replace('http', 'ws')}/ws?app=shop&since=${cut}`, { headers: svc.authHeaders });
      again.on('message', (m, isBinary) => {
        if (isBinary) binaryFrames++;
        replayed.push(JSON.parse(String(m)));
      });
      await eventually('replay', async () => (replayed.length >= seen.filter((e) => e.seq > cut).length ? true : undefined));
      again.close();
      expect(replayed.map((e) => e.seq)).to.deep.equal(seen.filter((e) => e.seq > cut).map((e) => e.seq));
      expect(binaryFrames, 'envelopes sent as binary frames').to.equal(0);
    });

    it('fails the clone step of a commit that is not in the repository, and still cleans up', async () => {
      const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: 'f'.repeat(40) }));
      const saga = await sagaWhenEnded(svc, (res.body.deploys as { sagaId: string }[])[0]!.sagaId);
      expect(saga.saga.status).to.equal('failed');
      expect(saga.saga.error).to.match(/^clone: /);
      const actions = saga.events.map((e) => e.action);
      expectSubsequence(actions, ['step.failed', 'step.start', 'step.complete', 'deploy.failed']);
    });
  });
}
