// Turns a forge's answer to a status POST into a SendResult: which refusals are worth retrying, and when.
// GitHub: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api (primary limits answer
// 403/429 with x-ratelimit-remaining: 0 and x-ratelimit-reset in epoch seconds; secondary limits 403/429 with
// retry-after). GitLab sends RateLimit-Reset and Retry-After; Gitea and proxies in front of any forge, Retry-After.
import type { SendResult } from './status-client.js';

export type HeaderLookup = (name: string) => string | null | undefined;

/** Without a hint, a secondary rate limit waits a minute, as GitHub's docs advise. */
const SECONDARY_LIMIT_FALLBACK_MS = 60_000;
/** A reset time is in whole seconds; waiting a little past it avoids hitting the limit at its last instant. */
const RESET_MARGIN_MS = 250;

export function classifyResponse(status: number, header: HeaderLookup, upstreamMessage: string, nowMs: number): SendResult {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const hint = retryHintMs(header, nowMs);
  const isRateLimited =
    status === 429 ||
    (status === 403 && (header('x-ratelimit-remaining') === '0' || header('retry-after') != null || /rate limit/i.test(upstreamMessage)));
  if (isRateLimited) {
    const secondary = status === 403 && header('x-ratelimit-remaining') !== '0' && hint === undefined;
    return { kind: 'retry', scope: 'forge', reason: `rate limited (${status})`, retryAfterMs: hint ?? (secondary ? SECONDARY_LIMIT_FALLBACK_MS : undefined) };
  }
  if (status >= 500 || status === 408) return { kind: 'retry', scope: 'request', reason: `forge answered ${status}`, retryAfterMs: hint };
  const detail = upstreamMessage ? `: ${upstreamMessage.slice(0, 300)}` : '';
  switch (status) {
    case 401:
      return { kind: 'permanent', reason: `401 the token was refused${detail}` };
    case 403:
      return { kind: 'permanent', reason: `403 the token may not set statuses on this repository${detail}` };
    case 404:
      return { kind: 'permanent', reason: `404 repository or commit not found (or not visible to the token)${detail}` };
    case 422:
      return { kind: 'permanent', reason: `422 the forge rejected the status as invalid${detail}` };
    default:
      return { kind: 'permanent', reason: `${status} refused${detail}` };
  }
}

/** Milliseconds to wait from Retry-After (seconds or HTTP date), else from a rate-limit reset time (epoch seconds). */
export function retryHintMs(header: HeaderLookup, nowMs: number): number | undefined {
  const retryAfter = header('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  const reset = (header('x-ratelimit-reset') ?? header('ratelimit-reset'))?.trim();
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - nowMs + RESET_MARGIN_MS);
  return undefined;
}

/** The human part of a forge's JSON error body ({message, errors[]}), or the text itself, one line. */
export function upstreamMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; errors?: unknown };
    const parts = [typeof parsed.message === 'string' ? parsed.message : ''];
    if (Array.isArray(parsed.errors)) {
      for (const e of parsed.errors) parts.push(typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : typeof e?.field === 'string' ? `${e.field} ${e.code ?? 'invalid'}` : '');
    }
    return parts.filter(Boolean).join('; ');
  } catch {
    return body.replace(/\s+/g, ' ').trim().slice(0, 300);
  }
}
