// POST /api/webhooks/:provider and /api/webhooks (forge detected from headers): reads the delivery and answers with
// the receiver's verdict: 202 queued, 200 ignored/duplicate, 4xx rejected, 503 busy.
import Router, { type RouterContext } from '@koa/router';
import type { DeliveryReceiver } from '../../deliveries/delivery-receiver.js';
import { FORGE_NAMES, type ForgeName } from '../../webhooks/forge-adapter.js';
import { receiveWebhook, type WebhookAnswer, type WebhookRouteConfig } from '../receive-webhook.js';
import { onlyMethods } from './api-routes.js';

export function webhookRoutes(config: WebhookRouteConfig, deps: { receiver: DeliveryReceiver }): Router {
  const router = new Router();
  const handle = async (ctx: RouterContext, provider: ForgeName | undefined) => {
    const answer: WebhookAnswer = await receiveWebhook(ctx.req, provider, config, deps.receiver);
    ctx.status = answer.status;
    if (answer.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(answer.retryAfterSeconds));
    if (answer.close) ctx.set('Connection', 'close');
    ctx.body = answer.body;
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
