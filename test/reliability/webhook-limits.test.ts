// Memory and ledger bounds on the webhook endpoints (issue 14, item 4): 200 senders that each declare a 5 MB
// body and send it slowly hold no more than NORN_WEBHOOK_BUFFER_BYTES between them (the rest are answered 503
// with Retry-After, unread); a body that takes too long is answered 408; refusals from one address beyond
// NORN_REJECTED_PER_MINUTE are answered 429 and become one aggregate ledger row, while that address's signed
// deliveries still go through.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startChildReceiver, type ChildReceiver } from '../support/child-receiver.js';
import { residentMemory, slowBody } from '../support/slow-bodies.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const MB = 2 ** 20;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

describe('webhook memory is bounded in total', function () {
  this.timeout(120_000);
  const BUDGET = 64 * MB;
  let root: string;
  let receiver: ChildReceiver;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-membound-'));
    fs.mkdirSync(path.join(root, 'apps'));
    receiver = await startChildReceiver({
      NORN_APPS_DIR: path.join(root, 'apps'),
      NORN_DATA_DIR: path.join(root, 'data'),
      NORN_WEBHOOK_SECRET: TEST_SECRET,
      NORN_WEBHOOK_BUFFER_BYTES: String(BUDGET),
      NORN_MAX_BODY_BYTES: String(5 * MB),
      NORN_LOG_LEVEL: 'error',
    });
  });
  after(async () => {
    await receiver?.kill('SIGKILL');
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('holds 200 slow 5 MB bodies within NORN_WEBHOOK_BUFFER_BYTES, refusing the rest with 503 and Retry-After', async () => {
    const port = Number(new URL(receiver.url).port);
    const pid = receiver.process.pid!;
    const before = residentMemory(pid);
    // 5 MB in 64 KB pieces 60 ms apart: about five seconds each, inside the 10 s body time limit.
    const senders = Array.from({ length: 200 }, (_, i) => slowBody(port, { bytes: 5 * MB, chunkBytes: 64 * 1024, gapMs: 60, id: `slow-${i}` }));
    // A forge's small signed delivery in the middle of it still fits beside the big ones.
    await new Promise((r) => setTimeout(r, 1_000));
    const small = await post(`${receiver.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: 'https://git.example/team/none.git', sha: 'c'.repeat(40) }));
    const answers = await Promise.all(senders);
    const after = residentMemory(pid);

    const byStatus = new Map<string, number>();
    for (const a of answers) byStatus.set(String(a.status), (byStatus.get(String(a.status)) ?? 0) + 1);
    const summary = `answers ${JSON.stringify(Object.fromEntries(byStatus))}; RSS ${mb(before.rss)} before, peak ${mb(after.peak)}`;
    expect([...byStatus.keys()].sort(), summary).to.satisfy((statuses: string[]) => statuses.every((s) => ['401', '429', '503'].includes(s)));
    expect(byStatus.get('503') ?? 0, summary).to.be.at.least(100);
    expect((byStatus.get('401') ?? 0) + (byStatus.get('429') ?? 0), `some bodies were read whole: ${summary}`).to.be.at.least(5);
    expect(answers.filter((a) => a.status === 503).every((a) => a.retryAfter === '5'), 'every 503 says when to retry').to.equal(true);
    expect(small.status, JSON.stringify(small.body)).to.equal(200);
    // Without the bound the 200 bodies grew RSS by about a gigabyte; with it, by the budget plus what V8 lets
    // dropped buffers add up to before it collects them (about 64 MB).
    expect(after.peak - before.rss, summary).to.be.below(BUDGET + 96 * MB);
    process.stdout.write(`      ${summary}\n`);
    expect((await fetch(`${receiver.url}/api/health`)).status).to.equal(200);
  });
});

describe('webhook time and refusal limits', function () {
  this.timeout(60_000);
  let svc: TestService;
  afterEach(() => svc?.close());

  it('answers 408 to a body that does not arrive within NORN_WEBHOOK_BODY_TIMEOUT_SECONDS, and closes the connection', async () => {
    svc = await startTestService({ env: { NORN_WEBHOOK_BODY_TIMEOUT_SECONDS: '1' } });
    const { port } = new URL(svc.url);
    const started = Date.now();
    const answer = await new Promise<{ text: string; closed: boolean }>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += String(d)));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ text, closed: true }));
      socket.write('POST /api/webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: stall\r\nContent-Length: 1000\r\n\r\n{"ref":');
    });
    expect(answer.text).to.match(/^HTTP\/1\.1 408 /);
    expect(answer.text).to.contain('did not arrive within 1 s');
    expect(answer.closed).to.equal(true);
    expect(Date.now() - started).to.be.below(15_000); // not the server's 30 s request timeout
  });

  it('answers refusals beyond NORN_REJECTED_PER_MINUTE with 429, records them as one row, and still takes signed deliveries', async () => {
    const repoUrl = 'https://git.example/team/shop.git';
    svc = await startTestService({ env: { NORN_REJECTED_PER_MINUTE: '5' }, specs: { shop: specFor('shop', repoUrl) } });
    const unsigned = (i: number) => fetch(`${svc.url}/api/webhooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `bad-${i}`, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body: '{}' });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 50; i++) {
      const res = await unsigned(i);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).to.deep.equal(new Set([429]));
    expect(Number(retryAfter)).to.be.within(1, 60);
    // The address is throttled for refusals only: a correctly signed delivery from it is taken as usual.
    const signed = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: 'https://git.example/team/other.git', sha: 'd'.repeat(40) }));
    expect(signed.status).to.equal(200);
    // A stop writes the counted refusals (a running service does it once their minute is over).
    svc = await svc.restart();
    const { deliveries } = (await (await svc.api('/api/deliveries?limit=100')).json()) as { deliveries: { verdict: string; statusCode: number; reason: string }[] };
    const rejected = deliveries.filter((d) => d.verdict === 'rejected');
    expect(rejected).to.have.length(6);
    const aggregate = rejected.find((d) => d.statusCode === 429);
    expect(aggregate?.reason).to.match(/^45 more refused deliveries from (::ffff:)?127\.0\.0\.1 between .* \(would-be statuses 45×401\)/);
  });
});
