// Maps the typed errors to HTTP answers. Messages are shown for 4xx only; a 5xx says "internal error" and the
// details go to the log.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { InvalidInputError, NotFoundError, WebhookRejectedError } from '../errors.js';

export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const { status, body } = answerFor(err);
      if (status >= 500) log.error({ err, path: ctx.path }, 'request failed');
      ctx.status = status;
      ctx.body = body;
    }
  };
}

function answerFor(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof WebhookRejectedError) return { status: err.status, body: { error: err.reason } };
  if (err instanceof InvalidInputError) return { status: err.status, body: { error: err.message, field: err.field } };
  if (err instanceof NotFoundError) return { status: 404, body: { error: err.message } };
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, body: { error: (err as Error).message } };
  return { status: 500, body: { error: 'internal error' } };
}
