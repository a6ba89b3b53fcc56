// The webhook endpoints served straight from node:http, ahead of Koa. A delivery is the one request the receiver
// gets at a forge's pace rather than a person's, and Koa's per-request context, middleware chain, router and
// response path cost more CPU than verifying, parsing and recording the delivery together (bench/README.md).
// Only the exact spellings are taken here: a POST to /api/webhooks or /api/webhooks/<forge>. Every other method or
// spelling (a trailing slash, capitals, an unknown forge) falls through to the Koa routes, which answer it as
// before, so the two paths never disagree on anything but cost.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DeliveryReceiver } from '../deliveries/delivery-receiver.js';
import { FORGE_NAMES, type ForgeName } from '../webhooks/forge-adapter.js';
import { answerFailure } from './error-middleware.js';
import { receiveWebhook, type WebhookRouteConfig } from './receive-webhook.js';
import { writeJson } from './write-json.js';

export interface WebhookListenerDeps {
  readonly receiver: DeliveryReceiver;
  readonly log: Logger;
  readonly redact?: (text: string) => string;
}

/** Takes a request it serves and returns true, or returns false and leaves the request untouched. */
export type WebhookListener = (req: IncomingMessage, res: ServerResponse) => boolean;

export function webhookListener(config: WebhookRouteConfig, deps: WebhookListenerDeps): WebhookListener {
  const paths = new Map<string, ForgeName | undefined>([['/api/webhooks', undefined], ...FORGE_NAMES.map((name) => [`/api/webhooks/${name}`, name] as const)]);
  const redact = deps.redact ?? ((text: string) => text);
  const serve = async (req: IncomingMessage, res: ServerResponse, path: string, provider: ForgeName | undefined) => {
    try {
      const answer = await receiveWebhook(req, provider, config, deps.receiver);
      send(res, answer.status, answer.body, answer.retryAfterSeconds, answer.close);
    } catch (err) {
      const answer = answerFailure(err, path, deps.log, redact);
      send(res, answer.status, answer.body, answer.retryAfterSeconds);
    }
  };
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (!paths.has(path)) return false;
    void serve(req, res, path, paths.get(path));
    return true;
  };
}

/** The answer as the Koa route would have written it, with Retry-After when asked to wait. */
function send(res: ServerResponse, status: number, body: Record<string, unknown>, retryAfterSeconds?: number, close?: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const headers: OutgoingHttpHeaders = {};
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  if (close) headers.connection = 'close';
  writeJson(res, status, body, headers);
}
