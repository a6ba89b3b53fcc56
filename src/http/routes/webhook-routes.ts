// POST /api/webhooks/:provider and /api/webhooks (forge detected from headers). Reads the raw bytes (capped in
// size and time, and within the budget shared by all bodies in flight), hands them to the receiver and answers
// with its verdict: 202 queued, 200 ignored/duplicate, 4xx rejected, 503 busy.
import Router, { type RouterContext } from '@koa/router';
import type { DeliveryReceiver, ReceiveResult } from '../../deliveries/delivery-receiver.js';
import { RequestBodyError, WebhookRejectedError } from '../../errors.js';
import { FORGE_NAMES, type ForgeName, type RawDelivery } from '../../webhooks/forge-adapter.js';
import type { BodyBudget } from '../body-budget.js';
import { BUSY_RETRY_AFTER_SECONDS, readRawBody } from '../read-body.js';
import { onlyMethods } from './api-routes.js';

export interface WebhookRouteConfig {
  readonly maxBodyBytes: number;
  /** NORN_WEBHOOK_BODY_TIMEOUT_SECONDS, in ms. */
  readonly bodyTimeoutMs: number;
  /** NORN_WEBHOOK_BUFFER_BYTES, shared by every webhook request. */
  readonly bodyBudget: BodyBudget;
}

export function webhookRoutes(config: WebhookRouteConfig, deps: { receiver: DeliveryReceiver }): Router {
  const router = new Router();
  const answer = (ctx: RouterContext, result: ReceiveResult) => {
    ctx.status = result.status;
    if (result.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(result.retryAfterSeconds));
    ctx.body = result.body;
  };
  const handle = async (ctx: RouterContext, provider: ForgeName | undefined) => {
    const sent = ctx.req.headers;
    const headers: Record<string, string | undefined> = {};
    for (const k in sent) {
      const v = sent[k];
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    // Rejected attempts are counted per sending address: the socket's, as the service trusts no forwarding header.
    const source = ctx.req.socket.remoteAddress ?? '';
    const hold = config.bodyBudget.hold();
    try {
      let body: Buffer;
      try {
        body = await readRawBody(ctx.req, config.maxBodyBytes, { timeoutMs: config.bodyTimeoutMs, hold });
      } catch (err) {
        if (!(err instanceof RequestBodyError)) throw err;
        hold.release();
        const refusal = new WebhookRejectedError(err.status, err.reason);
        // Busy: the body is read and dropped (it costs no memory), so the sender reads the 503 instead of a reset.
        if (refusal.status === 503) return answer(ctx, deps.receiver.refuseBusy(provider, refusal, BUSY_RETRY_AFTER_SECONDS, source));
        ctx.set('Connection', 'close');
        answer(ctx, await deps.receiver.rejectUnread(provider, { headers, body: Buffer.alloc(0) }, refusal, source));
        return;
      }
      const raw: RawDelivery = { headers, body };
      answer(ctx, await deps.receiver.receive(provider, raw, source));
    } finally {
      hold.release();
    }
  };
  // Public routes: every method is answered here (405 but for POST), so no request falls through past them.
  router.all('/api/webhooks', async (ctx) => {
    if (onlyMethods(ctx, ['POST'])) await handle(ctx, undefined);
  });
  router.all('/api/webhooks/:provider', async (ctx) => {
    if (!onlyMethods(ctx, ['POST'])) return;
    const provider = ctx.params.provider as ForgeName;
    if (!FORGE_NAMES.includes(provider)) {
      ctx.status = 404;
      ctx.body = { error: `unknown provider ${String(ctx.params.provider).slice(0, 40)}; use one of ${FORGE_NAMES.join(', ')}` };
      return;
    }
    await handle(ctx, provider);
  });
  // The rest of /api/webhooks/ is the webhooks' too: a mistyped forge URL learns that, not that it needs a token.
  router.all('/api/webhooks/*rest', (ctx) => {
    ctx.status = 404;
    ctx.body = { error: `no webhook endpoint here; use /api/webhooks or /api/webhooks/<${FORGE_NAMES.join('|')}>` };
  });
  return router;
}
