// Over 100,000 generated hostile requests to the webhook endpoints of a receiver process (its own process, so its
// heap can be measured after a forced GC): malformed JSON, wrong and missing signatures, valid signatures over garbage,
// oversized, cut-short and badly framed bodies, odd content types, oversized headers, slow senders, wrong methods,
// unknown providers. It answers each with the right 4xx, never a 5xx, stays up, queues nothing, and its memory
// is flat afterwards even though it recorded every refused delivery (on disk).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { startChildReceiver, type ChildReceiver } from '../support/child-receiver.js';
import { countRows } from '../support/crash-store.js';
import { rawHostileRequest, rawPost, sendRaw, trickle } from '../support/hostile-raw.js';
import { HEAP_PROBE_NODE_OPTIONS, heapAfterGc } from '../support/hostile-heap-probe.js';
import { forgeHeaders, hostileRequests, type HostileRequest } from '../support/hostile-requests.js';
import { githubPush } from '../support/signed-delivery.js';
import { specFor, TEST_SECRET } from '../support/test-service.js';

const FLOOD = 100_000;
const WARM_UP = 5_000;
const CONCURRENCY = 64;
/** One request in RAW_EVERY goes over a raw socket (each a new connection); the rest over keep-alive HTTP. */
const RAW_EVERY = 25;
const MAX_BODY_BYTES = 64 * 1024;
const TRACKED_REPO = 'https://git.example/team/shop.git';

interface Tally {
  withDeliveryId: number;
  byKind: Map<string, Map<string, number>>;
  unexpected: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hostile input: 100,000 generated requests to the webhook endpoints', function () {
  this.timeout(180_000);
  let root: string;
  let receiver: ChildReceiver;
  let port: number;
  let hostileRequest: (n: number) => HostileRequest;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-hostile-'));
    // An app tracks the repository the hostile pushes name: any of them slipping through would queue a deploy.
    fs.mkdirSync(path.join(root, 'apps', 'shop'), { recursive: true });
    fs.writeFileSync(path.join(root, 'apps', 'shop', 'infraspec.yaml'), YAML.stringify(specFor('shop', TRACKED_REPO)));
    receiver = await startChildReceiver({
      NORN_APPS_DIR: path.join(root, 'apps'),
      NORN_DATA_DIR: path.join(root, 'data'),
      NORN_WEBHOOK_SECRET: TEST_SECRET,
      NORN_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      // Every refusal recorded one by one, so each kind's own answer shows (webhook-limits.test.ts covers the 429s).
      NORN_REJECTED_PER_MINUTE: '10000000',
      // Refusals are logged at warn; only errors are kept, and there should be none.
      NORN_LOG_LEVEL: 'error',
      NODE_OPTIONS: HEAP_PROBE_NODE_OPTIONS,
    });
    port = Number(new URL(receiver.url).port);
    const trackedPush = githubPush({ secret: TEST_SECRET, repoUrl: TRACKED_REPO, sha: 'a'.repeat(40) }).body;
    hostileRequest = hostileRequests({ secret: TEST_SECRET, trackedPush, maxBodyBytes: MAX_BODY_BYTES });
  });

  after(async () => {
    agent.destroy();
    await receiver?.kill('SIGKILL');
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const send = (n: number, tally: Tally): Promise<void> => {
    if (n % RAW_EVERY === 0) {
      const raw = rawHostileRequest(n / RAW_EVERY, MAX_BODY_BYTES);
      return sendRaw(port, raw.bytes, { hangUp: raw.hangUp }).then((a) => {
        record(tally, raw.kind, a.status, raw.hangUp ? [undefined] : raw.expected, JSON.stringify(raw.bytes.slice(0, 60)));
        if (a.status === 413) tally.withDeliveryId++; // refused unread, and recorded
      });
    }
    const r = hostileRequest(n);
    return new Promise((resolve) => {
      const req = http.request({ agent, host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if (body.includes('"deliveryId"')) tally.withDeliveryId++;
          record(tally, r.kind, res.statusCode, r.expected, `${r.method} ${r.path.slice(0, 60)}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        record(tally, r.kind, undefined, r.expected, `${r.method} ${r.path.slice(0, 60)}: ${err.message}`);
        resolve();
      });
      req.end(r.body);
    });
  };

  const flood = async (from: number, count: number): Promise<Tally> => {
    const tally: Tally = { withDeliveryId: 0, byKind: new Map(), unexpected: [] };
    let next = from;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < from + count) {
          await send(next++, tally);
        }
      }),
    );
    return tally;
  };

  describe('a flood with slow senders alongside', () => {
    let tally: Tally;
    let elapsed: number;
    let slowAnswers: (number | undefined)[];
    let memBefore: { heapUsed: number; rss: number };
    let memAfter: { heapUsed: number; rss: number };

    before(async () => {
      await flood(1_000_000, WARM_UP);
      await sleep(1_000);
      memBefore = await heapAfterGc(receiver);
      // Slow senders: a body, or a whole request, trickling in over about three seconds.
      const slowBody = '{"ref": "refs/heads/main", "after": "not-a-sha"}';
      const headers = Object.entries(forgeHeaders('github', 'slow', slowBody, TEST_SECRET)).map(([k, v]) => `${k}: ${v}`);
      const slow = Array.from({ length: 6 }, (_, i) => trickle(port, rawPost(headers, slowBody), i < 3 ? 30 : 8, i < 3 ? 100 : 400));
      const started = Date.now();
      tally = await flood(0, FLOOD);
      elapsed = Date.now() - started;
      slowAnswers = (await Promise.all(slow)).map((a) => a.status);
      await sleep(2_000);
      memAfter = await heapAfterGc(receiver);
    });

    const summary = () => [...tally.byKind].map(([kind, statuses]) => `${kind}: ${[...statuses].map(([s, c]) => `${s}×${c}`).join(' ')}`).join('\n');

    it(`sent ${FLOOD} requests and answered none with a 5xx`, () => {
      const fiveHundreds = [...tally.byKind].filter(([, statuses]) => [...statuses.keys()].some((s) => s.startsWith('5')));
      expect(fiveHundreds.map(([kind]) => kind), `answers by kind in ${elapsed} ms:\n${summary()}`).to.deep.equal([]);
    });

    it('answered each kind with the status it calls for, slow senders included', () => {
      const wrong = tally.unexpected.filter((u) => !/→ 5\d\d /.test(u)); // 5xx are the test above's
      expect(wrong.slice(0, 10), `${wrong.length} unexpected answers:\n${summary()}`).to.deep.equal([]);
      expect(slowAnswers).to.deep.equal([400, 400, 400, 400, 400, 400]);
    });

    it('stayed up and queued nothing', async () => {
      expect(receiver.process.exitCode, 'the receiver exited').to.equal(null);
      expect((await fetch(`${receiver.url}/api/health`)).status).to.equal(200);
      const deploys = (await (await fetch(`${receiver.url}/api/deploys`, { headers: receiver.authHeaders })).json()) as { deploys: unknown[] };
      expect(deploys.deploys).to.deep.equal([]);
    });

    it('recorded every delivery it answered, on disk: its memory stayed flat', async () => {
      // Every answer that named a delivery is in the ledger (which may hold more: attempts cut short).
      expect(await countRows(path.join(root, 'data', 'norn.sqlite'), 'deliveries')).to.be.at.least(tally.withDeliveryId);
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
      expect(memAfter.heapUsed - memBefore.heapUsed, `heap after a full GC: ${mb(memBefore.heapUsed)} before, ${mb(memAfter.heapUsed)} after`).to.be.below(16 * 2 ** 20);
      expect(memAfter.rss - memBefore.rss, `RSS after a full GC: ${mb(memBefore.rss)} before, ${mb(memAfter.rss)} after`).to.be.below(64 * 2 ** 20);
    });
  });

  it('logs no internal failure for a sender that hangs up mid-body or breaks the chunked framing', async () => {
    const logged = receiver.output.length;
    for (let n = 0; n < 60; n++) {
      const raw = rawHostileRequest(n % 2 === 0 ? 6 * n : 6 * n + 5, MAX_BODY_BYTES); // body cut short / broken chunks
      await sendRaw(port, raw.bytes, { hangUp: raw.hangUp });
    }
    await sleep(500);
    const errors = receiver.output
      .slice(logged)
      .join('')
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line))
      .map((line) => {
        const entry = JSON.parse(line) as { msg: string; path?: string; err?: { message?: string } };
        return `${entry.msg} ${entry.path ?? ''}: ${entry.err?.message ?? ''}`;
      });
    expect([...new Set(errors)], `${errors.length} error lines`).to.deep.equal([]);
  });
});

function record(tally: Tally, kind: string, status: number | undefined, expected: readonly (number | undefined)[], detail = ''): void {
  const statuses = tally.byKind.get(kind) ?? new Map<string, number>();
  tally.byKind.set(kind, statuses);
  const key = status === undefined ? 'none' : String(status);
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  if (!expected.includes(status)) tally.unexpected.push(`${kind} → ${key} (expected ${expected.join('/')}) ${detail}`);
}
