// POST /api/webhooks/:provider and /api/webhooks (forge detected from headers). Reads the raw bytes (capped),
// hands them to the receiver and answers with its verdict: 202 queued, 200 ignored/duplicate, 4xx rejected.
import Router, { type RouterContext } from '@koa/router';
import type { DeliveryReceiver } from '../../deliveries/delivery-receiver.js';
import { WebhookRejectedError } from '../../errors.js';
import { FORGE_NAMES, type ForgeName, type RawDelivery } from '../../webhooks/push-event.js';
import { readRawBody } from '../read-body.js';
import { onlyMethods } from './api-routes.js';

export function webhookRoutes(config: { maxBodyBytes: number }, deps: { receiver: DeliveryReceiver }): Router {
  const router = new Router();
  const handle = async (ctx: RouterContext, provider: ForgeName | undefined) => {
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(ctx.request.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v as string | undefined);
    let body: Buffer;
    try {
      body = await readRawBody(ctx.req, config.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof WebhookRejectedError)) throw err;
      ctx.set('Connection', 'close');
      body = Buffer.alloc(0);
      const result = await deps.receiver.rejectUnread(provider, { headers, body }, err);
      ctx.status = result.status;
      ctx.body = result.body;
      return;
    }
    const raw: RawDelivery = { headers, body };
    const result = await deps.receiver.receive(provider, raw);
    ctx.status = result.status;
    ctx.body = result.body;
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
