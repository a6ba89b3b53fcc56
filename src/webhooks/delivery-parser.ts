// Where a delivery's signature is checked and its body parsed and checked against its forge's schema: on the
// receiver's own thread, or on a thread of its own. That work is about a quarter of the CPU a delivery costs, and run
// between the HTTP parser and SQLite it runs cold; the receiver's main thread is what bounds how many deliveries a
// second it answers. With a second CPU, moving it to a thread of its own takes it off that path (bench/README.md).
// Both give the same ParsedDelivery and the same refusals. The thread costs memory (about 23 MB) and its start
// about 0.16 s of CPU, which a receiver getting a push a minute has no use for: it starts once deliveries arrive
// faster than a busy forge sends them, and until it is ready they are parsed inline. Large bodies are always parsed
// inline: the thread gets a copy of each body, and copies of large ones would double what NORN_WEBHOOK_BUFFER_BYTES
// bounds, for no gain, since the cost of a message is small beside parsing a large body. If the thread dies, or does
// not answer a batch within 10 s, what it held is parsed inline and another starts; a thread that dies before it is
// ready (it cannot load) is not tried again.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WebhookRejectedError } from '../errors.js';
import { TickBatcher, type BatchOutcome } from '../store/tick-batcher.js';
import type { ForgeAdapter, ForgeName, RawDelivery } from './forge-adapter.js';
import type { ParsedDelivery } from './parsed-delivery.js';

export interface DeliveryParser {
  /** The adapter's verify (when given the secret), then its parse; never rejects. */
  parse(adapter: ForgeAdapter, delivery: RawDelivery, secret?: string): Promise<ParseOutcome>;
  /** Stops the thread; deliveries it held, and any parsed after, are parsed inline. */
  close(): Promise<void>;
}

/**
 * The ParsedDelivery, or what the adapter threw (a WebhookRejectedError: 401 from verify, 400 from parse) and whether
 * the signature had been checked and found good by then.
 */
export type ParseOutcome = { readonly parsed: ParsedDelivery } | { readonly refused: unknown; readonly verified: boolean };

/** The adapter's verify (only when given the secret), then its parse, wherever they run. */
export async function verifyThenParse(adapter: ForgeAdapter, delivery: RawDelivery, secret?: string): Promise<ParseOutcome> {
  if (secret !== undefined) {
    try {
      await adapter.verify(delivery, secret);
    } catch (refused) {
      return { refused, verified: false };
    }
  }
  try {
    return { parsed: adapter.parse(delivery) };
  } catch (refused) {
    return { refused, verified: secret !== undefined };
  }
}

/** One delivery as the parse thread gets it. */
export interface ParseRequest {
  readonly forge: ForgeName;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
  readonly secret?: string;
}

/** The deliveries that arrived in one turn of the event loop, sent to the thread in one message. */
export interface ParseBatch {
  readonly id: number;
  readonly requests: readonly ParseRequest[];
}

/**
 * What the thread answers for one delivery: what the adapter gave, or the refusal it threw (another error as its
 * message), with whether the signature had been found good.
 */
export type ParseReply =
  | { readonly parsed: ParsedDelivery }
  | { readonly rejected: { readonly status: number; readonly reason: string }; readonly verified: boolean }
  | { readonly failed: string; readonly verified: boolean };

/** What the thread sends: once that it is ready, then one answer per batch, in the batch's order. */
export type ParseThreadMessage = { readonly ready: true } | { readonly id: number; readonly replies: readonly ParseReply[] };

export function inlineParser(): DeliveryParser {
  return {
    parse: verifyThenParse,
    close: async () => {},
  };
}

/** Deliveries within one second that start the thread. */
export const THREAD_START_RATE = 100;
/** Bodies larger than this are parsed inline. */
export const THREAD_MAX_BODY_BYTES = 256 * 1024;
/** A batch the thread has not answered by then stops the thread; the batch is parsed inline. */
export const THREAD_ANSWER_TIMEOUT_MS = 10_000;

export interface ThreadParserOptions {
  /** Starts the thread; parse-worker.ts beside this file unless given (tests start threads that fail). */
  readonly spawn?: () => Worker;
  /** Deliveries within one second that start the thread; THREAD_START_RATE unless given. */
  readonly startRate?: number;
  /** THREAD_ANSWER_TIMEOUT_MS unless given. */
  readonly answerTimeoutMs?: number;
  /** Hears each time the thread ends other than by close(): whether it had been ready, and its error if any. */
  readonly onExit?: (exit: ThreadExit) => void;
}

export interface ThreadExit {
  /** False when the thread ended before it could take a delivery: it is not started again. */
  readonly wasReady: boolean;
  readonly error?: Error;
}

interface Job {
  readonly adapter: ForgeAdapter;
  readonly delivery: RawDelivery;
  readonly secret?: string;
}

interface SentBatch {
  readonly jobs: readonly Job[];
  readonly timer: NodeJS.Timeout;
  settle(outcomes: Promise<readonly BatchOutcome<ParseOutcome>[]> | readonly BatchOutcome<ParseOutcome>[]): void;
}

export function threadParser(options: ThreadParserOptions = {}): DeliveryParser {
  const spawn = options.spawn ?? spawnParseWorker;
  const sent = new Map<number, SentBatch>();
  let nextId = 0;
  /** Closed, or the thread could not start: every delivery is parsed inline from then on. */
  let inlineOnly = false;
  let thread: { readonly worker: Worker; ready: boolean; stop(why: Error): void } | undefined;
  const answerTimeoutMs = options.answerTimeoutMs ?? THREAD_ANSWER_TIMEOUT_MS;
  const startRate = options.startRate ?? THREAD_START_RATE;
  /** Deliveries seen since `windowStart`, while no thread runs. */
  let seen = 0;
  let windowStart = 0;
  const busyEnoughToStart = (): boolean => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      seen = 0;
    }
    return ++seen >= startRate;
  };

  // Nothing a forge sent is lost to a dead thread: what it held is parsed here.
  const parseSentInline = () => {
    for (const [id, batch] of sent) {
      sent.delete(id);
      clearTimeout(batch.timer);
      batch.settle(parseInline(batch.jobs));
    }
  };

  /** Starts the thread; false when it cannot even be created (parsing stays inline). */
  const start = (): boolean => {
    let worker: Worker;
    try {
      worker = spawn();
    } catch (err) {
      inlineOnly = true;
      options.onExit?.({ wasReady: false, error: err instanceof Error ? err : new Error(String(err)) });
      return false;
    }
    let error: Error | undefined;
    const current = {
      worker,
      ready: false,
      stop(why: Error) {
        error ??= why;
        void worker.terminate();
      },
    };
    thread = current;
    // Idle between deliveries, the thread must never be what keeps the process alive.
    worker.unref();
    worker.on('message', (message: ParseThreadMessage) => {
      if ('ready' in message) {
        current.ready = true;
        return;
      }
      const batch = sent.get(message.id);
      if (!batch) return;
      sent.delete(message.id);
      clearTimeout(batch.timer);
      batch.settle(message.replies.map((reply) => ({ ok: true, value: outcomeOf(reply) })));
    });
    worker.on('error', (err) => {
      error = err;
    });
    worker.on('exit', () => {
      if (thread === current) thread = undefined;
      if (inlineOnly) return;
      if (!current.ready) inlineOnly = true;
      options.onExit?.({ wasReady: current.ready, ...(error ? { error } : {}) });
      parseSentInline();
    });
    return true;
  };

  // One message per turn of the event loop rather than one per delivery: waking the thread costs the sender more
  // than copying a delivery does. While the thread works on one batch, the next gathers.
  const batcher = new TickBatcher<Job, ParseOutcome>(
    (jobs) =>
      new Promise((settle) => {
        const current = thread;
        if (!current?.ready) return settle(parseInline(jobs));
        const id = nextId++;
        // A thread that stops answering (a bug, not a delivery: every check is linear in its input) is replaced.
        const timer = setTimeout(() => current.stop(new Error(`it did not answer within ${answerTimeoutMs} ms`)), answerTimeoutMs);
        timer.unref();
        sent.set(id, { jobs, timer, settle });
        // A copy of just each body's bytes, handed over rather than cloned: a body is often a view into the socket's
        // much larger read buffer, all of which a structured clone would copy.
        const bodies = jobs.map((job) => new Uint8Array(job.delivery.body));
        const requests = jobs.map((job, i): ParseRequest => ({ forge: job.adapter.name, headers: job.delivery.headers, body: bodies[i]!, secret: job.secret }));
        current.worker.postMessage({ id, requests } satisfies ParseBatch, bodies.map((body) => body.buffer));
      }),
  );

  const inline = (job: Job) => verifyThenParse(job.adapter, job.delivery, job.secret);

  return {
    parse(adapter, delivery, secret) {
      const job = { adapter, delivery, secret };
      if (inlineOnly || delivery.body.length > THREAD_MAX_BODY_BYTES) return inline(job);
      if (!thread && !(busyEnoughToStart() && start())) return inline(job);
      // Until the thread is ready (it loads the adapters and zod), deliveries do not wait for it.
      if (!thread!.ready) return inline(job);
      return batcher.run(job);
    },
    async close() {
      inlineOnly = true;
      const current = thread;
      thread = undefined;
      await current?.worker.terminate();
      parseSentInline();
    },
  };
}

function outcomeOf(reply: ParseReply): ParseOutcome {
  if ('parsed' in reply) return reply;
  if ('rejected' in reply) return { refused: new WebhookRejectedError(reply.rejected.status, reply.rejected.reason), verified: reply.verified };
  return { refused: new Error(reply.failed), verified: reply.verified };
}

/** The reply the thread sends for an outcome: errors do not cross threads whole, so their parts are sent. */
export function replyOf(outcome: ParseOutcome): ParseReply {
  if ('parsed' in outcome) return outcome;
  const { refused, verified } = outcome;
  if (refused instanceof WebhookRejectedError) return { rejected: { status: refused.status, reason: refused.reason }, verified };
  return { failed: refused instanceof Error ? refused.message : String(refused), verified };
}

function parseInline(jobs: readonly Job[]): Promise<BatchOutcome<ParseOutcome>[]> {
  return Promise.all(jobs.map(async (job) => ({ ok: true as const, value: await verifyThenParse(job.adapter, job.delivery, job.secret) })));
}

/**
 * Starts parse-worker.ts's thread, beside this file. Built, that is plain JavaScript. From the TypeScript source (the
 * tests, `npx norn` in a checkout) the thread registers tsx itself first: loader hooks registered on the main thread
 * do not reach a worker.
 */
export function spawnParseWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url));
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  const tsx = tsxEsmApi();
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}

/**
 * tsx's ESM API (the module `import 'tsx/esm/api'` loads), found from here: the thread's script would look for it
 * from the working directory, and under mocha this file runs as CommonJS, where only its CommonJS build resolves.
 */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return new URL(exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
}
