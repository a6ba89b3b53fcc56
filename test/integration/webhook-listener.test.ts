// Deliveries are served outside Koa when they use the documented paths (POST /api/webhooks[/<forge>]); every other
// spelling still reaches the Koa routes. A sender must not be able to tell the two apart: same status, headers and
// verdict, every delivery recorded, and a failure answered with what to do rather than a dropped connection.
import { expect } from 'chai';
import { githubPush, type Delivery } from '../support/signed-delivery.js';
import { startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const UNTRACKED = 'https://github.com/norn-test/untracked';

async function deliver(svc: TestService, path: string, d: Delivery = githubPush({ secret: TEST_SECRET, repoUrl: UNTRACKED, sha: 'b'.repeat(40) })) {
  const res = await fetch(`${svc.url}${path}`, { method: 'POST', headers: d.headers, body: d.body });
  return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), body: (await res.json()) as Record<string, unknown> };
}

describe('the webhook listener outside Koa', function () {
  this.timeout(30_000);
  let svc: TestService;

  beforeEach(async () => {
    svc = await startTestService();
  });
  afterEach(async () => svc.close());

  it('answers the documented paths and every other spelling alike, and records each delivery', async () => {
    const paths = ['/api/webhooks/github', '/api/webhooks', '/api/webhooks/github?source=ci', '/api/webhooks/github/', '/API/Webhooks/github'];
    const answers = [];
    for (const path of paths) answers.push({ path, ...(await deliver(svc, path)) });
    for (const a of answers) {
      expect(a.status, a.path).to.equal(200);
      expect(a.type, a.path).to.equal('application/json; charset=utf-8');
      expect(Number(a.length), a.path).to.equal(Buffer.byteLength(JSON.stringify(a.body)));
      expect(a.body, a.path).to.include({ verdict: 'no-match' });
      expect(a.body.reason, a.path).to.contain('norn-test/untracked');
      expect(Object.keys(a.body).sort(), a.path).to.deep.equal(['deliveryId', 'deploys', 'reason', 'verdict']);
    }
    const listed = (await (await svc.api('/api/deliveries?limit=50')).json()) as { deliveries: { id: string }[] };
    const recorded = new Set(listed.deliveries.map((d) => d.id));
    for (const a of answers) expect(recorded.has(a.body.deliveryId as string), a.path).to.equal(true);
  });

  it('leaves other methods on the documented paths to the routes, which answer 405 naming POST', async () => {
    const res = await fetch(`${svc.url}/api/webhooks/github`);
    expect(res.status).to.equal(405);
    expect(res.headers.get('allow')).to.equal('POST');
  });

  it('answers a delivery the store cannot record with 500, a hint and a reference the log holds', async () => {
    // The ledger's table is gone from under the receiver: the insert fails as a bug in the store would.
    await svc.service.store.knex.raw('alter table deliveries rename to deliveries_moved');
    const res = await deliver(svc, '/api/webhooks/github');
    expect(res.status).to.equal(500);
    expect(res.body.error).to.contain('could not complete this request');
    expect(res.body.hint).to.contain(String(res.body.reference));
    expect(svc.logLines.some((line) => line.includes(String(res.body.reference)) && line.includes('/api/webhooks/github'))).to.equal(true);
    await svc.service.store.knex.raw('alter table deliveries_moved rename to deliveries');
  });
});
