// Constant-time checks of a delivery's signature or token, so a caller cannot learn the secret byte by byte
// from response times. Every failure is WebhookRejectedError(401); the reason never echoes the secret.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejectedError } from '../errors.js';
import type { ForgeName } from './forge-adapter.js';

/** Refuses to verify with an empty secret: anyone can compute an HMAC keyed with nothing. */
export function requireSecret(forge: ForgeName, secret: string): void {
  if (!secret) throw new WebhookRejectedError(401, `no webhook secret is configured for ${forge}`);
}

/** True when `given` is the lower- or upper-case hex HMAC-SHA256 of `body` keyed with `secret`. */
export function hmacSha256HexMatches(secret: string, body: Buffer, given: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'), 'utf8');
  const actual = Buffer.from(given.toLowerCase(), 'utf8');
  // timingSafeEqual throws on unequal lengths; the length of a hex digest is no secret.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Compares a shared token without leaking its length: both sides are hashed to 32 bytes first. */
export function tokensMatch(given: string, secret: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

export function signatureMismatch(label: string): WebhookRejectedError {
  return new WebhookRejectedError(401, `${label} does not match this webhook's secret`);
}

export function signatureMissing(label: string): WebhookRejectedError {
  return new WebhookRejectedError(401, `missing header ${label}`);
}
