// GET /metrics wired to a running service's saga log and queue: counters after a real deploy, gauges read at
// scrape time, and the API token in front of it unless metrics are public. (Served from its own Koa app here,
// built exactly as the composition root passes it to createApp's extraRoutes.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { DeployHistory } from '../../src/deploys/deploy-history.js';
import { wireMetrics, type WiredMetrics } from '../../src/metrics/wire-metrics.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { eventually, specFor, startTestService, type TestService } from '../support/test-service.js';

const TOKEN = 'metrics-test-token';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function serve(wired: WiredMetrics): Promise<{ url: string; close: () => void }> {
  const app = new Koa();
  app.use(wired.route);
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('GET /metrics on a running service', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;
  const auth = { authorization: `Bearer ${TOKEN}` };

  function wire(isPublic: boolean): WiredMetrics {
    const { knex } = svc.service.store;
    const history = new DeployHistory({ knex });
    const wired = wireMetrics(
      { apiToken: TOKEN, isPublic },
      {
        queueDepth: async () => (await history.countByStatus()).queued ?? 0,
        runningDeploys: async () => (await history.countByStatus()).running ?? 0,
      },
    );
    svc.service.sagaLog.subscribe(wired.onSagaEvents);
    return wired;
  }

  before(async () => {
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'hello' });
    svc = await startTestService({ specs: { shop: specFor('shop', repo.url) }, env: { NORN_API_TOKEN: TOKEN } });
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('counts a finished deploy and its steps, and reads the queue at scrape time', async () => {
    const wired = wire(false);
    const metrics = await serve(wired);
    try {
      wired.recordDelivery('github', 'queued');
      const res = await fetch(`${svc.url}/api/apps/shop/deploy`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
      const { deploys } = (await res.json()) as { deploys: { sagaId: string }[] };
      await eventually('the deploy to succeed', async () => {
        const saga = (await (await fetch(`${svc.url}/api/sagas/${deploys[0]!.sagaId}`, { headers: auth })).json()) as { saga: { status: string } };
        return saga.saga.status === 'succeeded' ? true : undefined;
      });
      const scrape = await fetch(`${metrics.url}/metrics`, { headers: auth });
      expect(scrape.status).to.equal(200);
      expect(scrape.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      const text = await scrape.text();
      expect(sample(text, 'norn_deploys_total{app="shop",outcome="succeeded"}')).to.equal(1);
      expect(sample(text, 'norn_step_duration_seconds_count{step="clone",status="complete"}')).to.equal(1);
      expect(sample(text, 'norn_step_duration_seconds_count{step="cleanup",status="complete"}')).to.equal(1);
      expect(sample(text, 'norn_deliveries_total{forge="github",verdict="queued"}')).to.equal(1);
      expect(sample(text, 'norn_deploy_queue_depth')).to.equal(0);
      expect(sample(text, 'norn_deploys_running')).to.equal(0);
      expect(text).to.contain('norn_process_resident_memory_bytes');
    } finally {
      metrics.close();
    }
  });

  it('answers 401 without the API token, and serves it openly when metrics are public', async () => {
    const guarded = await serve(wire(false));
    const open = await serve(wire(true));
    try {
      const refused = await fetch(`${guarded.url}/metrics`);
      expect(refused.status).to.equal(401);
      expect(((await refused.json()) as { error: string }).error).to.contain('NORN_API_TOKEN');
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).to.equal(401);
      const served = await fetch(`${open.url}/metrics`);
      expect(served.status).to.equal(200);
      expect(await served.text()).to.contain('# TYPE norn_deploys_total counter');
    } finally {
      guarded.close();
      open.close();
    }
  });
});
