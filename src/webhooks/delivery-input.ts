// Reading what a forge sent: headers by name, and the body as JSON. Shared by every adapter so that every
// forge rejects hostile input the same way (400 naming the header or the problem).
import { WebhookRejectedError } from '../errors.js';
import type { RawDelivery } from './forge-adapter.js';

/** Long enough for any UUID, GUID or hex id a forge sends; short enough to log and index. */
const MAX_HEADER_LENGTH = 200;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** The first of `names` (lower-case) that is present and not blank, trimmed; undefined when none is. */
export function headerValue(delivery: RawDelivery, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = delivery.headers[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Why a header value cannot be used as an id or event name, or undefined when it can. */
function headerProblem(value: string): string | undefined {
  if (value.length > MAX_HEADER_LENGTH) return `is longer than ${MAX_HEADER_LENGTH} characters`;
  if (!PRINTABLE_ASCII.test(value)) return 'holds characters other than printable ASCII';
  return undefined;
}

/** A header usable as an id or event name, or undefined when it is missing or unusable. */
export function safeHeaderValue(delivery: RawDelivery, names: readonly string[]): string | undefined {
  const value = headerValue(delivery, names);
  return value !== undefined && headerProblem(value) === undefined ? value : undefined;
}

/**
 * The header's value; throws WebhookRejectedError(400) naming the header when it is missing, too long or
 * not printable. `label` is the header as the forge documents it, e.g. "X-GitHub-Delivery".
 */
export function requireHeader(delivery: RawDelivery, label: string, names: readonly string[]): string {
  const value = headerValue(delivery, names);
  if (value === undefined) throw new WebhookRejectedError(400, `missing header ${label}`);
  const problem = headerProblem(value);
  if (problem) throw new WebhookRejectedError(400, `header ${label} ${problem}`);
  return value;
}

/** Throws WebhookRejectedError(400) for an empty body: nothing to verify or parse. */
export function rejectEmptyBody(delivery: RawDelivery): void {
  if (delivery.body.length === 0) throw new WebhookRejectedError(400, 'request body is empty');
}

/** The body as text; throws WebhookRejectedError(400) when it is empty. */
export function requireBody(delivery: RawDelivery): string {
  rejectEmptyBody(delivery);
  return delivery.body.toString('utf8');
}

/**
 * The body parsed as JSON. GitHub and Gitea can also post `application/x-www-form-urlencoded` with the JSON
 * in a `payload` field; the signature covers the form bytes, so this runs only after verification.
 */
export function readJsonBody(delivery: RawDelivery): unknown {
  let text = requireBody(delivery);
  const contentType = delivery.headers['content-type']?.toLowerCase() ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new WebhookRejectedError(400, 'form-encoded body has no payload field');
    text = payload;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WebhookRejectedError(400, 'request body is not valid JSON');
  }
}
