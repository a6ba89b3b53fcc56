import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { WebhookRejectedError } from '../../../src/errors.js';
import { spawnParseWorker, THREAD_MAX_BODY_BYTES, THREAD_START_RATE, threadParser, verifyThenParse, type DeliveryParser, type ParseOutcome, type ThreadExit } from '../../../src/webhooks/delivery-parser.js';
import { createForgeAdapters } from '../../../src/webhooks/forge-adapters.js';
import type { RawDelivery } from '../../../src/webhooks/forge-adapter.js';
import { readFixture } from '../../support/fixtures-dir.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const adapters = createForgeAdapters();

const SECRET = 'parse-thread-secret';

function githubDelivery(body: Buffer | string, secret = SECRET): RawDelivery {
  const bytes = Buffer.from(body);
  const signature = `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;
  return { headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'gh-1', 'x-hub-signature-256': signature }, body: bytes };
}

function gitlabDelivery(body: Buffer): RawDelivery {
  return { headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'gl-1' }, body };
}

const githubPush = githubDelivery(readFixture('github/octokit-webhooks/push.branch-created.json'));
const gitlabPush = gitlabDelivery(readFixture('gitlab/drone-go-scm/push.json'));

/** An outcome as a user meets it: the ParsedDelivery, or the answer's status and reason and the trace's signature. */
function seen(outcome: ParseOutcome): unknown {
  if ('parsed' in outcome) return outcome.parsed;
  const err = outcome.refused;
  if (!(err instanceof WebhookRejectedError)) return { unexpected: String(err) };
  return { status: err.status, reason: err.reason, verified: outcome.verified };
}

/** The adapter's own answer, run on this thread. */
async function inline(forge: keyof typeof adapters, delivery: RawDelivery, secret?: string): Promise<unknown> {
  return seen(await verifyThenParse(adapters[forge], delivery, secret));
}

async function parsedBy(parser: DeliveryParser, forge: keyof typeof adapters, delivery: RawDelivery, secret?: string): Promise<unknown> {
  return seen(await parser.parse(adapters[forge], delivery, secret));
}

/**
 * A parser on a thread `spawn` starts (the real one unless given), the replies its threads sent besides "ready" (so a
 * test knows a thread answered), a promise of the first thread's ready message, and every exit it reported.
 */
function watchedThreadParser(spawn: () => Worker = spawnParseWorker, startRate = 1) {
  const replies: unknown[] = [];
  const exits: ThreadExit[] = [];
  let spawned = 0;
  let markReady!: () => void;
  let failReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
  const parser = threadParser({
    startRate,
    spawn: () => {
      spawned++;
      const worker = spawn();
      worker.on('message', (reply: { ready?: boolean }) => (reply.ready ? markReady() : replies.push(reply)));
      return worker;
    },
    onExit: (exit) => {
      exits.push(exit);
      if (!exit.wasReady) failReady(exit.error ?? new Error('the parse thread ended before it was ready'));
    },
  });
  return { parser, replies, ready, exits, spawned: () => spawned };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error(`waited 10 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('delivery parser: parsing on a thread of its own', function () {
  this.timeout(20_000);
  const closing: DeliveryParser[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((p) => p.close()));
  });

  it('answers each forge\'s push exactly as the adapter does inline, from the thread once it is ready', async () => {
    const { parser, replies, ready } = watchedThreadParser();
    closing.push(parser);
    // The first delivery starts the thread and does not wait for it.
    expect(await parsedBy(parser, 'github', githubPush, SECRET)).to.deep.equal(await inline('github', githubPush, SECRET));
    await ready;
    const fromThread = await parsedBy(parser, 'github', githubPush, SECRET);
    expect(fromThread).to.deep.equal(await inline('github', githubPush, SECRET));
    expect(fromThread).to.include({ kind: 'push', ref: 'refs/heads/master' });
    expect(await parsedBy(parser, 'gitlab', gitlabPush)).to.deep.equal(await inline('gitlab', gitlabPush));
    expect(replies, 'answered by the thread').to.have.length(2);
  });

  it('refuses what the adapter refuses: the same status, the reason naming the header or field, the same signature verdict', async () => {
    const { parser, replies, ready } = watchedThreadParser();
    closing.push(parser);
    await parser.parse(adapters.github, githubPush);
    await ready;
    const payload = JSON.parse(readFixture('github/octokit-webhooks/push.branch-created.json').toString('utf8')) as Record<string, unknown>;
    const cases: Array<[RawDelivery, object]> = [
      [githubDelivery(JSON.stringify(payload), 'another-secret'), { status: 401, verified: false }],
      [githubDelivery('{"ref": '), { status: 400, reason: 'request body is not valid JSON', verified: true }],
      [githubDelivery(JSON.stringify({ ...payload, ref: 'refs/heads/a..b' })), { status: 400, verified: true }],
    ];
    for (const [delivery, expected] of cases) {
      const fromThread = await parsedBy(parser, 'github', delivery, SECRET);
      expect(fromThread).to.deep.equal(await inline('github', delivery, SECRET));
      expect(fromThread).to.include(expected);
    }
    expect((await parsedBy(parser, 'github', cases[0]![0], SECRET)) as { reason: string }).to.have.property('reason').that.matches(/X-Hub-Signature-256/);
    expect((await parsedBy(parser, 'github', cases[2]![0], SECRET)) as { reason: string }).to.have.property('reason').that.matches(/field ref/);
    expect(replies, 'answered by the thread').to.have.length(5);
  });

  it('parses what a thread held when it died, and starts another for the next delivery', async () => {
    // A thread that says it is ready and dies at its first request.
    const dying = () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ ready: true }); parentPort.on('message', () => process.exit(3));`, { eval: true });
    const { parser, ready, exits, spawned } = watchedThreadParser(dying);
    closing.push(parser);
    await parser.parse(adapters.github, githubPush); // starts the thread
    await ready;
    const held = await Promise.all([parsedBy(parser, 'github', githubPush, SECRET), parsedBy(parser, 'gitlab', gitlabPush)]);
    expect(held).to.deep.equal([await inline('github', githubPush, SECRET), await inline('gitlab', gitlabPush)]);
    expect(held[0]).to.include({ kind: 'push' });
    expect(exits.map((e) => e.wasReady)).to.deep.equal([true]);
    await parser.parse(adapters.github, githubPush);
    expect(spawned(), 'a new thread for the next delivery').to.equal(2);
  });

  it('stops a thread that does not answer, parses what it held inline, and starts another', async () => {
    // A thread that says it is ready and never answers.
    const silent = () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ ready: true }); parentPort.on('message', () => {});`, { eval: true });
    const exits: ThreadExit[] = [];
    let spawned = 0;
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const parser = threadParser({
      startRate: 1,
      answerTimeoutMs: 200,
      spawn: () => {
        spawned++;
        const worker = silent();
        worker.on('message', () => markReady());
        return worker;
      },
      onExit: (exit) => exits.push(exit),
    });
    closing.push(parser);
    await parser.parse(adapters.github, githubPush, SECRET);
    await ready;
    expect(await parsedBy(parser, 'github', githubPush, SECRET)).to.deep.equal(await inline('github', githubPush, SECRET));
    expect(exits.map((e) => [e.wasReady, e.error?.message])).to.deep.equal([[true, 'it did not answer within 200 ms']]);
    await parser.parse(adapters.github, githubPush, SECRET);
    expect(spawned, 'a new thread for the next delivery').to.equal(2);
  });

  it('parses inline for good when the thread cannot start, and says so once', async () => {
    const broken = () => new Worker(`throw new Error('cannot load the parser')`, { eval: true });
    const { parser, ready, exits, spawned } = watchedThreadParser(broken);
    ready.catch(() => {});
    closing.push(parser);
    expect(await parsedBy(parser, 'github', githubPush)).to.deep.equal(await inline('github', githubPush));
    await until(() => exits.length > 0, 'the broken thread to end');
    for (let i = 0; i < 5; i++) expect(await parsedBy(parser, 'gitlab', gitlabPush)).to.deep.equal(await inline('gitlab', gitlabPush));
    expect(spawned()).to.equal(1);
    expect(exits).to.have.length(1);
    expect(exits[0]!.wasReady).to.equal(false);
    expect(exits[0]!.error?.message).to.equal('cannot load the parser');
  });

  it('parses inline when a thread cannot even be created', async () => {
    const { parser, exits } = watchedThreadParser(() => {
      throw new Error('no threads here');
    });
    closing.push(parser);
    expect(await parsedBy(parser, 'github', githubPush)).to.deep.equal(await inline('github', githubPush));
    expect(exits.map((e) => [e.wasReady, e.error?.message])).to.deep.equal([[false, 'no threads here']]);
  });

  it('starts its thread from the build output as well as from the source', async () => {
    const built = path.join(REPO_ROOT, 'dist/src/webhooks/delivery-parser.js');
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first (\`npm test\` does)`);
    const module = (await import(pathToFileURL(built).href)) as { spawnParseWorker: () => Worker };
    const { parser, replies, ready } = watchedThreadParser(module.spawnParseWorker);
    closing.push(parser);
    await parser.parse(adapters.github, githubPush, SECRET);
    await ready;
    expect(await parsedBy(parser, 'github', githubPush, SECRET)).to.deep.equal(await inline('github', githubPush, SECRET));
    expect(replies, 'answered by the built thread').to.have.length(1);
  });

  it('starts no thread for deliveries that arrive at a forge\'s usual pace, and one when they arrive fast', async () => {
    const { parser, spawned } = watchedThreadParser(spawnParseWorker, THREAD_START_RATE);
    closing.push(parser);
    for (let i = 0; i < THREAD_START_RATE / 2; i++) expect(await parsedBy(parser, 'github', githubPush, SECRET)).to.include({ kind: 'push' });
    expect(spawned(), 'no thread at half the rate').to.equal(0);
    for (let i = 0; i < THREAD_START_RATE / 2; i++) await parser.parse(adapters.github, githubPush, SECRET);
    expect(spawned(), 'a thread once the rate is reached').to.equal(1);
  });

  it('parses a body over THREAD_MAX_BODY_BYTES inline, never copying it to the thread', async () => {
    const { parser, replies, ready } = watchedThreadParser();
    closing.push(parser);
    await parser.parse(adapters.github, githubPush, SECRET);
    await ready;
    const payload = JSON.parse(readFixture('github/octokit-webhooks/push.branch-created.json').toString('utf8')) as Record<string, unknown>;
    const large = githubDelivery(JSON.stringify({ ...payload, padding: 'x'.repeat(THREAD_MAX_BODY_BYTES) }));
    expect(await parsedBy(parser, 'github', large, SECRET)).to.include({ kind: 'push', ref: 'refs/heads/master' });
    expect(replies).to.have.length(0);
    await parser.parse(adapters.github, githubPush, SECRET);
    expect(replies, 'a small one still goes to the thread').to.have.length(1);
  });

  it('after close, parses inline and starts no thread', async () => {
    const { parser, spawned } = watchedThreadParser();
    await parser.close();
    expect(await parsedBy(parser, 'github', githubPush)).to.deep.equal(await inline('github', githubPush));
    expect(spawned()).to.equal(0);
  });
});
