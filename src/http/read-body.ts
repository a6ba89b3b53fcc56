// Reads a request body as raw bytes with a size cap, so verification sees exactly what was sent and an oversized
// or endless body is cut off early (413) instead of filling memory. Webhook bodies are also bounded in time
// (408) and, together, by a shared budget (503 with Retry-After; see body-budget.ts). Every refusal is a
// RequestBodyError; the webhook route records it as a refused delivery, the API answers it as it is.
import type { IncomingMessage } from 'node:http';
import { RequestBodyError } from '../errors.js';
import type { BodyHold } from './body-budget.js';

export interface BodyLimits {
  /** The whole body must have arrived this long after reading began. */
  readonly timeoutMs?: number;
  /** This request's share of the budget of all bodies being read at once. */
  readonly hold?: BodyHold;
}

/** Seconds a sender refused for lack of budget is asked to wait (bodies in flight finish or time out by then). */
export const BUSY_RETRY_AFTER_SECONDS = 5;

export async function readRawBody(req: IncomingMessage, maxBytes: number, limits: BodyLimits = {}): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const hasDeclared = req.headers['content-length'] !== undefined && Number.isFinite(declared);
  if (hasDeclared && declared > maxBytes) {
    req.resume();
    throw new RequestBodyError(413, `body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }
  if (hasDeclared && limits.hold && !limits.hold.reserve(declared)) {
    req.resume();
    throw busy();
  }
  // With a declared length the bytes go straight into one buffer of that size: no second copy at the end, so a
  // body costs its length (which the budget counts), not twice that while it is joined.
  const whole = hasDeclared ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        // Keep nothing more of it: the rest is read and dropped until the answer closes the connection.
        req.off('data', onData);
        req.resume();
        reject(err);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return fail(new RequestBodyError(413, `body exceeds the limit of ${maxBytes} bytes`));
        if (whole) {
          // Node enforces the declared length, so this never overruns.
          chunk.copy(whole, size - chunk.length);
          return;
        }
        // A chunked body reserves as it comes.
        if (limits.hold && !limits.hold.reserve(chunk.length)) return fail(busy());
        chunks.push(chunk);
      };
      if (limits.timeoutMs !== undefined) {
        timer = setTimeout(() => fail(new RequestBodyError(408, `the body did not arrive within ${limits.timeoutMs! / 1000} s (${size} bytes so far); send it whole and promptly`)), limits.timeoutMs);
      }
      req.on('data', onData);
      req.once('end', resolve);
      // The sender hung up or broke the framing mid-body: a refused request, not a failure of ours.
      req.once('error', () => fail(new RequestBodyError(400, `the request body was cut off after ${size} bytes`)));
      req.once('close', () => {
        if (!req.complete) fail(new RequestBodyError(400, `the request body was cut off after ${size} bytes`));
      });
    });
  } finally {
    clearTimeout(timer);
  }
  return whole ? whole.subarray(0, size) : Buffer.concat(chunks, size);
}

function busy(): RequestBodyError {
  return new RequestBodyError(503, `the receiver is reading as many webhook bodies as it may hold at once (NORN_WEBHOOK_BUFFER_BYTES); retry in ${BUSY_RETRY_AFTER_SECONDS} s`);
}

/** A small JSON API body; empty means {}. */
export async function readJsonBody(req: IncomingMessage, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
  const raw = await readRawBody(req, maxBytes);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RequestBodyError(400, 'request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RequestBodyError(400, 'request body must be a JSON object');
  return value as Record<string, unknown>;
}
