// The API token check. When NORN_API_TOKEN is set, the API and /ws need it (as a bearer token, or `?token=` where a
// browser cannot set headers); webhooks (signed) and /api/health stay open. Compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

export function presentedToken(headers: Record<string, string | string[] | undefined>, query: Record<string, unknown>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return typeof query.token === 'string' ? query.token : undefined;
}

/** Origins a browser may open /ws from: localhost on any port, plus the configured ones. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true; // not a browser (CLI, curl): the token check is what guards it
  try {
    const url = new URL(origin);
    if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return true;
  } catch {
    return false;
  }
  return allowed.includes(origin.replace(/\/+$/, ''));
}
