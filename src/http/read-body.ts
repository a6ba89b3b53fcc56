// Reads a request body as raw bytes with a size cap, so verification sees exactly what was sent and an oversized
// or endless body is cut off early (413) instead of filling memory.
import type { IncomingMessage } from 'node:http';
import { WebhookRejectedError } from '../errors.js';

export async function readRawBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new WebhookRejectedError(413, `body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        req.resume();
        throw new WebhookRejectedError(413, `body exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof WebhookRejectedError) throw err;
    // The sender hung up or broke the framing mid-body: a refused request, not a failure of ours.
    throw new WebhookRejectedError(400, `the request body was cut off after ${size} bytes`);
  }
  return Buffer.concat(chunks, size);
}

/** A small JSON API body; empty means {}. */
export async function readJsonBody(req: IncomingMessage, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
  const raw = await readRawBody(req, maxBytes);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WebhookRejectedError(400, 'request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new WebhookRejectedError(400, 'request body must be a JSON object');
  return value as Record<string, unknown>;
}
