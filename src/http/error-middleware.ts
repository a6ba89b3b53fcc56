// Maps the typed errors to HTTP answers that say what went wrong and what to do:
//   4xx (bad input, not found, refused)             the message, and the field when there is one
//   UpstreamError (Nomad, git remote, registry…)     502 with the service, the operation, its message and a hint
//   UpstreamTimeoutError                             504, the same fields
//   CommandError (pg_restore, a reload command…)     502 with the command and the end of its stderr
//   ConfigError                                      500 naming the setting to fix
//   anything else (a bug, the store is down)         500 with a reference to find the details in the log
// Text from other systems passes through `redact` (configured secrets masked) before it is answered or logged.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { CommandError, ConfigError, InvalidInputError, NotFoundError, UpstreamError, UpstreamTimeoutError, WebhookRejectedError } from '../errors.js';

type Answer = { status: number; body: Record<string, unknown> };

export function errorMiddleware(log: Logger, redact: (text: string) => string = (text) => text) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const { status, body } = answerFor(err, redact);
      if (status >= 500) log.error({ err, path: ctx.path, status, reference: body.reference }, 'request failed');
      ctx.status = status;
      ctx.body = body;
    }
  };
}

function answerFor(err: unknown, redact: (text: string) => string): Answer {
  if (err instanceof WebhookRejectedError) return { status: err.status, body: { error: err.reason } };
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
