// Maps the typed errors to HTTP answers that say what went wrong and what to do:
//   4xx (bad input, not found, refused)             the message, and the field when there is one
//   UpstreamError (Nomad, git remote, registry…)     502 with the service, the operation, its message and a hint
//   UpstreamTimeoutError                             504, the same fields
//   CommandError (pg_restore, a reload command…)     502 with the command and the end of its stderr
//   ConfigError                                      500 naming the setting to fix
//   the store cannot be reached or is busy           503 with Retry-After, naming the store
//   anything else (a bug)                            500 with a reference to find the details in the log
// Text from other systems passes through `redact` (configured secrets masked) before it is answered or logged.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { CommandError, ConfigError, InvalidInputError, NotFoundError, RequestBodyError, UpstreamError, UpstreamTimeoutError, WebhookRejectedError } from '../errors.js';

export type ErrorAnswer = { status: number; body: Record<string, unknown>; retryAfterSeconds?: number };

/** Error codes of a database that cannot be reached or is momentarily busy (node, PostgreSQL SQLSTATE, SQLite). */
const STORE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_READONLY']);

/** The code or name that says the store is unavailable, or undefined when `err` is something else. */
function storeUnavailable(err: unknown): string | undefined {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'KnexTimeoutError') return 'no database connection became free in time';
  return typeof code === 'string' && STORE_DOWN_CODES.has(code) ? code : undefined;
}

export function errorMiddleware(log: Logger, redact: (text: string) => string = (text) => text) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const { status, body, retryAfterSeconds } = answerFailure(err, ctx.path, log, redact);
      ctx.status = status;
      ctx.body = body;
      if (retryAfterSeconds !== undefined) ctx.set('Retry-After', String(retryAfterSeconds));
    }
  };
}

/** The answer to a request to `path` that failed with `err`, logged when it is the receiver's fault (5xx). */
export function answerFailure(err: unknown, path: string, log: Logger, redact: (text: string) => string): ErrorAnswer {
  const answer = errorAnswer(err, redact);
  if (answer.status >= 500) log.error({ err, path, status: answer.status, reference: answer.body.reference }, 'request failed');
  return answer;
}

function errorAnswer(err: unknown, redact: (text: string) => string): ErrorAnswer {
  if (err instanceof WebhookRejectedError || err instanceof RequestBodyError) return { status: err.status, body: { error: err.reason } };
  if (err instanceof InvalidInputError) return { status: err.status, body: { error: err.message, field: err.field } };
  if (err instanceof NotFoundError) return { status: 404, body: { error: err.message } };
  if (err instanceof UpstreamError) {
    const status = err instanceof UpstreamTimeoutError ? 504 : 502;
    return { status, body: { error: redact(err.message), service: err.service, operation: redact(err.operation), ...(err.hint ? { hint: redact(err.hint) } : {}) } };
  }
  if (err instanceof CommandError) {
    const command = err.argv[0] ?? 'command';
    return { status: 502, body: { error: redact(err.message), command, hint: `the receiver ran ${command} and it failed; the message above is the end of its output` } };
  }
  if (err instanceof ConfigError) {
    return { status: 500, body: { error: `the receiver is misconfigured: ${redact(err.message)}`, field: err.variable, hint: `fix ${err.variable} and restart the receiver` } };
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, body: { error: redact((err as Error).message) } };
  const storeProblem = storeUnavailable(err);
  if (storeProblem) {
    return {
      status: 503,
      retryAfterSeconds: 5,
      body: { error: `the receiver's store is unavailable (${storeProblem})`, hint: 'check that PostgreSQL (NORN_DATABASE_URL) is up, or the SQLite file under NORN_DATA_DIR is writable; GET /api/health says when it is back' },
    };
  }
  const reference = randomUUID();
  return {
    status: 500,
    body: {
      error: 'internal error: the receiver could not complete this request',
      hint: `its log has the details under reference ${reference}; if the store is down, GET /api/health says so`,
      reference,
    },
  };
}
