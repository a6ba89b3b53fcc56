// One webhook request from the socket to the receiver's verdict: copies the headers, reads the raw bytes (capped in
// size and time, and within the budget shared by all bodies in flight) and hands them to the receiver. What is
// answered (status, Retry-After, body, whether to close the connection) is the caller's to write.
import type { IncomingMessage } from 'node:http';
import type { DeliveryReceiver, ReceiveResult } from '../deliveries/delivery-receiver.js';
import { RequestBodyError, WebhookRejectedError } from '../errors.js';
import type { ForgeName, RawDelivery } from '../webhooks/forge-adapter.js';
import type { BodyBudget } from './body-budget.js';
import { BUSY_RETRY_AFTER_SECONDS, readRawBody } from './read-body.js';

export interface WebhookRouteConfig {
  readonly maxBodyBytes: number;
  /** NORN_WEBHOOK_BODY_TIMEOUT_SECONDS, in ms. */
  readonly bodyTimeoutMs: number;
  /** NORN_WEBHOOK_BUFFER_BYTES, shared by every webhook request. */
  readonly bodyBudget: BodyBudget;
}

export interface WebhookAnswer extends ReceiveResult {
  /** The body was refused unread: the rest of it is not worth reading, so the connection is closed after the answer. */
  readonly close?: boolean;
}

/** `provider` is the forge named in the path, or undefined to detect it from the headers. */
export async function receiveWebhook(req: IncomingMessage, provider: ForgeName | undefined, config: WebhookRouteConfig, receiver: DeliveryReceiver): Promise<WebhookAnswer> {
  const sent = req.headers;
  const headers: Record<string, string | undefined> = {};
  for (const k in sent) {
    const v = sent[k];
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  // Rejected attempts are counted per sending address: the socket's, as the service trusts no forwarding header.
  const source = req.socket.remoteAddress ?? '';
  const hold = config.bodyBudget.hold();
  try {
    let body: Buffer;
    try {
      body = await readRawBody(req, config.maxBodyBytes, { timeoutMs: config.bodyTimeoutMs, hold });
    } catch (err) {
      if (!(err instanceof RequestBodyError)) throw err;
      hold.release();
      const refusal = new WebhookRejectedError(err.status, err.reason);
      // Busy: the body is read and dropped (it costs no memory), so the sender reads the 503 instead of a reset.
      if (refusal.status === 503) return receiver.refuseBusy(provider, refusal, BUSY_RETRY_AFTER_SECONDS, source);
      return { ...(await receiver.rejectUnread(provider, { headers, body: Buffer.alloc(0) }, refusal, source)), close: true };
    }
    const raw: RawDelivery = { headers, body };
    return await receiver.receive(provider, raw, source);
  } finally {
    hold.release();
  }
}
