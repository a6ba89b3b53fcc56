// What an operator does to a running app (issue 18): read its output, change how many instances run, restart them.
//
//   GET  /api/apps/:app/logs?process=&follow=true&since=10m&tail=100
//        NDJSON, one `{process, instance, stream, text}` per line, secrets masked; with follow it streams until the
//        client goes away, and then every engine or Nomad stream behind it is closed. A plain chunked HTTP answer
//        rather than the /ws feed: it is one client's own stream with its own filters, it needs backpressure (a
//        slow reader slows the reads, nothing piles up), it ends when that client disconnects, and curl can read it.
//        An error after the first line is sent as a last `{error}` line.
//   POST /api/apps/:app/scale   {process, count}   -> 202 {sagaId, app, process, count}
//   POST /api/apps/:app/restart {process?}         -> 202 {sagaId, app, process}
//        Both run as an operation saga (operation.start/progress/complete/failed) after the answer; the CLI follows
//        the saga. Refused with 409 while a deploy or another operation of the app runs, and with 400 naming the
//        field for an unknown or non-service process or a count out of range.
import { Readable } from 'node:stream';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { AppCatalog } from '../../apps/app-catalog.js';
import { parseGoDuration } from '../../apps/go-duration.js';
import { processKind } from '../../apps/infraspec-schema.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';
import { errorMessage, InvalidInputError, StepFailedError } from '../../errors.js';
import type { OperationRunner } from '../../operations/operation-runner.js';
import type { Runtime, RuntimeSource } from '../../pipeline/runtime.js';
import type { LogLine } from '../../pipeline/runtime-operations.js';
import type { LoadSecrets } from '../../apps/app-secrets.js';
import { readJsonBody } from '../read-body.js';
import { appFromParam } from './app-param.js';

export interface OperateRouteDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly runtime: RuntimeSource;
  readonly operations: Pick<OperationRunner, 'start' | 'isBusy'>;
  isDeployRunning(app: string): Promise<boolean>;
  /** The composition root's redactor: log lines pass through it before they leave. */
  readonly redactor: { redact(text: string): string; remember(values: Iterable<string>): void };
  /** Decrypts the app's secrets so their values are masked in its output too (a receiver that just started knows none). */
  readonly loadSecrets?: LoadSecrets;
  readonly log: Logger;
  /**
   * Aborted when the receiver shuts down: a followed log stream never ends by itself, and the HTTP server's close
   * waits for every open answer, so each stream ends then, with a last line saying why.
   */
  readonly shutdown?: AbortSignal;
}

/** No process is scaled past this unless its spec's `scaling.max` says so. */
export const MAX_SCALE = 50;
const MAX_TAIL = 10_000;
const MAX_SINCE_MS = 30 * 24 * 3_600_000;

export function operateRoutes(deps: OperateRouteDeps): Router {
  const r = new Router({ prefix: '/api/apps/:app' });
  const appOf = (name: string | undefined): LoadedApp => appFromParam(deps.catalog, name);
  const runtimeFor = async (verb: string): Promise<Runtime> => {
    try {
      return await deps.runtime.require(verb);
    } catch (err) {
      if (err instanceof StepFailedError) throw new InvalidInputError('runtime', err.message, 409);
      throw err;
    }
  };
  /** Refuses a change while something else changes what runs. */
  const assertIdle = async (app: string) => {
    if (await deps.isDeployRunning(app)) throw new InvalidInputError('app', `a deploy of ${app} is running; wait for it to end (norn status ${app})`, 409);
    if (deps.operations.isBusy(app)) throw new InvalidInputError('app', `another scale or restart of ${app} is running; wait for it to end`, 409);
  };

  r.get('/logs', async (ctx) => {
    const app = appOf(ctx.params.app);
    const process = optionalProcess(app, ctx.query.process);
    const follow = flag(ctx.query.follow, 'follow');
    const sinceMs = ctx.query.since === undefined ? undefined : sinceParam(ctx.query.since);
    const tail = ctx.query.tail === undefined ? (sinceMs === undefined ? 100 : undefined) : tailParam(ctx.query.tail);
    const runtime = await runtimeFor('logs');
    await learnSecrets(app, deps);
    const abort = new AbortController();
    const signal = deps.shutdown ? AbortSignal.any([abort.signal, deps.shutdown]) : abort.signal;
    const lines = runtime.streamLogs(app.name, { follow, ...(process ? { process } : {}), ...(tail !== undefined ? { tail } : {}), ...(sinceMs !== undefined ? { sinceMs: Date.now() - sinceMs } : {}), signal });
    // The client going away (or the answer ending) closes every stream the runtime opened for it.
    ctx.res.once('close', () => abort.abort());
    ctx.type = 'application/x-ndjson';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = Readable.from(ndjson(lines, deps, app.name), { objectMode: false });
  });

  r.post('/scale', async (ctx) => {
    const app = appOf(ctx.params.app);
    const body = await readJsonBody(ctx.req);
    const process = serviceProcess(app, body.process);
    const max = app.spec.processes[process]!.scaling.max ?? MAX_SCALE;
    const count = body.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > max) {
      throw new InvalidInputError('count', `must be a whole number from 1 to ${max}${app.spec.processes[process]!.scaling.max !== undefined ? ` (${process}'s scaling.max)` : ''}`);
    }
    const runtime = await runtimeFor('scale');
    await assertIdle(app.name);
    await assertRuns(runtime, app.name, process);
    // A failure names the instance with its last output, where the app may print a secret.
    await learnSecrets(app, deps);
    const sagaId = await deps.operations.start(
      { app: app.name, verb: 'scale', summary: `scale ${process} to ${count}`, metadata: { process, count, runtime: runtime.name } },
      async (report, signal) => {
        const outcome = await runtime.scale({ app: app.name, spec: app.spec, process, count, signal, report });
        const message = outcome.from === outcome.to ? `${process} already ran ${count} instance(s)` : `${process} scaled from ${outcome.from} to ${outcome.to}`;
        return { message, metadata: { process, from: outcome.from, to: outcome.to }, result: outcome };
      },
    );
    ctx.status = 202;
    ctx.body = { sagaId, app: app.name, process, count };
  });

  r.post('/restart', async (ctx) => {
    const app = appOf(ctx.params.app);
    const body = await readJsonBody(ctx.req);
    const process = body.process === undefined || body.process === null ? undefined : serviceProcess(app, body.process);
    const runtime = await runtimeFor('restart');
    await assertIdle(app.name);
    await assertRuns(runtime, app.name, process);
    // A failure names the instance with its last output, where the app may print a secret.
    await learnSecrets(app, deps);
    const what = process ?? 'every service process';
    const sagaId = await deps.operations.start(
      { app: app.name, verb: 'restart', summary: `restart ${what}, one instance at a time`, metadata: { process: process ?? null, runtime: runtime.name } },
      async (report, signal) => {
        const outcome = await runtime.restart({ app: app.name, spec: app.spec, ...(process ? { process } : {}), signal, report });
        return { message: `restarted ${outcome.restarted.length} instance(s) of ${what}, each healthy again`, metadata: { restarted: outcome.restarted }, result: outcome };
      },
    );
    ctx.status = 202;
    ctx.body = { sagaId, app: app.name, process: process ?? null };
  });
  return r;
}

async function* ndjson(lines: AsyncIterable<LogLine>, deps: OperateRouteDeps, app: string): AsyncGenerator<string> {
  const shuttingDown = `${JSON.stringify({ error: 'the receiver is shutting down; run norn logs again once it is back' })}\n`;
  try {
    for await (const l of lines) {
      if (deps.shutdown?.aborted) break;
      yield `${JSON.stringify({ process: l.process, instance: l.instance, stream: l.stream, text: deps.redactor.redact(l.text) })}\n`;
    }
    if (deps.shutdown?.aborted) yield shuttingDown;
  } catch (err) {
    if (deps.shutdown?.aborted) {
      yield shuttingDown;
      return;
    }
    deps.log.warn({ app, err: errorMessage(err) }, 'log stream failed');
    yield `${JSON.stringify({ error: deps.redactor.redact(errorMessage(err)) })}\n`;
  }
}

/**
 * So a secret value the app prints (in its logs, or in a scale or restart's failure) is masked even before any deploy
 * taught the redactor; a file that cannot be read changes nothing.
 */
async function learnSecrets(app: LoadedApp, deps: OperateRouteDeps): Promise<void> {
  if (!deps.loadSecrets) return;
  try {
    const secrets = await deps.loadSecrets(app.dir);
    if (secrets) deps.redactor.remember(Object.values(secrets.env));
  } catch (err) {
    deps.log.warn({ app: app.name, err: errorMessage(err) }, 'could not read the app\'s secrets to mask them in its logs');
  }
}

async function assertRuns(runtime: Runtime, app: string, process: string | undefined): Promise<void> {
  const running = (await runtime.instances(app, AbortSignal.timeout(15_000))).filter((i) => process === undefined || i.process === process);
  if (running.length === 0) throw new InvalidInputError('app', `${app} runs no ${process ?? 'service'} instance on ${runtime.name}: deploy it first (norn deploy ${app})`, 409);
}

function processNames(app: LoadedApp): string {
  return Object.keys(app.spec.processes).join(', ');
}

function serviceProcess(app: LoadedApp, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidInputError('process', `must name one of ${app.name}'s processes (${processNames(app)})`);
  const proc = app.spec.processes[value];
  if (!proc || !Object.hasOwn(app.spec.processes, value)) throw new InvalidInputError('process', `${value.slice(0, 64)} is not a process of ${app.name} (${processNames(app)})`);
  const kind = processKind(proc);
  if (kind !== 'service') throw new InvalidInputError('process', `${value} is a ${kind} process: it runs per invocation, not as instances (see norn runs ${app.name})`);
  return value;
}

function optionalProcess(app: LoadedApp, value: unknown): string | undefined {
  return value === undefined ? undefined : serviceProcess(app, value);
}

function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new InvalidInputError(field, 'must be true or false');
}

function sinceParam(value: unknown): number {
  if (typeof value !== 'string') throw new InvalidInputError('since', 'must be one duration such as 10m or 1h30m');
  let ms: number;
  try {
    ms = parseGoDuration(value);
  } catch {
    throw new InvalidInputError('since', `"${value.slice(0, 32)}" is not a duration such as 10m, 1h30m or 45s`);
  }
  if (!(ms > 0) || ms > MAX_SINCE_MS) throw new InvalidInputError('since', 'must be more than zero and at most 720h (30 days)');
  return ms;
}

function tailParam(value: unknown): number {
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1 || n > MAX_TAIL) throw new InvalidInputError('tail', `must be a whole number from 1 to ${MAX_TAIL}`);
  return n;
}
