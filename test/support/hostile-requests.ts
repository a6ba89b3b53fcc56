// Generated hostile requests to the webhook endpoints, each with the statuses a correct receiver may answer. All
// are well-formed HTTP (hostile-raw.ts has the ones that are not); none may queue a deploy, though several carry
// a push for a tracked repository.
import { hmacHex } from './signed-delivery.js';

export interface HostileRequest {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  readonly expected: readonly number[];
}

export interface HostileContext {
  readonly secret: string;
  /** A genuine push body for a tracked repository (deploys if it were ever accepted). */
  readonly trackedPush: string;
  readonly maxBodyBytes: number;
}

type Maker = (n: number, ctx: HostileContext, memo: Map<string, string>) => HostileRequest;

const FORGES = ['github', 'gitea', 'forgejo', 'gitlab', 'generic'] as const;
const WRONG_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH', 'TRACE'];
const ODD_TYPES = ['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'image/png', '*/*', ';;;', 'application/json\t; q=0'];
const GARBAGE = ['{', '{"ref":', 'null', '[]', '"push"', '1e999999', '{"ref":"refs/heads/main","after":{}}', '\u0000\u0001', '\ufeff{}', '{"a":"\ud800"}', 'payload=%7B', '<xml/>'];

/** Headers naming the event and delivery for `forge`, signed over `body` with `secret` the way that forge signs. */
export function forgeHeaders(forge: (typeof FORGES)[number], id: string, body: string | Buffer, secret: string): Record<string, string> {
  const hex = hmacHex(secret, body);
  switch (forge) {
    case 'github':
      return { 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${hex}` };
    case 'gitea':
      return { 'x-gitea-event': 'push', 'x-gitea-delivery': id, 'x-gitea-signature': hex };
    case 'forgejo':
      return { 'x-forgejo-event': 'push', 'x-forgejo-delivery': id, 'x-forgejo-signature': hex };
    case 'gitlab':
      return { 'x-gitlab-event': 'Push Hook', 'idempotency-key': id, 'x-gitlab-token': secret };
    case 'generic':
      return { 'x-norn-event': 'push', 'x-norn-delivery': id, 'x-norn-signature-256': `sha256=${hex}` };
  }
}

const post = (kind: string, path: string, headers: Record<string, string | string[]>, body: string | Buffer, expected: number[]): HostileRequest => ({
  kind,
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  expected,
});

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

const MAKERS: readonly Maker[] = [
  // A correctly signed body that is not a push: broken JSON, the wrong shape, deep nesting.
  (n, c) => {
    const forge = pick(FORGES, n);
    const body = n % 7 === 0 ? `${'['.repeat(5000)}${']'.repeat(5000)}` : pick(GARBAGE, n >> 3);
    return post('valid signature over garbage', `/api/webhooks/${forge}`, forgeHeaders(forge, `h-${n}`, body, c.secret), body, [400]);
  },
  // A genuine push for a tracked repository whose fields were tampered with, still correctly signed.
  (n, c, memo) => {
    const field = pick(['after', 'ref', 'repository', 'commits', 'head_commit'], n);
    const value = pick([42, 'refs/heads/../../etc', { a: 1 }, 'z'.repeat(3000), [[[]]]], n >> 2);
    const key = `${field}=${JSON.stringify(value)}`;
    const body = memo.get(key) ?? JSON.stringify({ ...(JSON.parse(c.trackedPush) as Record<string, unknown>), [field]: value });
    memo.set(key, body);
    return post('signed push with tampered fields', '/api/webhooks/github', forgeHeaders('github', `t-${n}`, body, c.secret), body, [400]);
  },
  // The genuine push, signed with another secret, or with the signature garbled, doubled or missing.
  (n, c) => {
    const forge = pick(FORGES, n);
    const headers = forgeHeaders(forge, `w-${n}`, c.trackedPush, `${c.secret}-wrong`);
    const sigHeader = Object.keys(headers).find((h) => /signature|token/.test(h))!;
    const variant = (n >> 3) % 4;
    if (variant === 1) headers[sigHeader] = `sha256=${'0'.repeat(64)}`;
    if (variant === 2) delete headers[sigHeader];
    const doubled: Record<string, string | string[]> = variant === 3 ? { ...headers, [sigHeader]: [headers[sigHeader]!, forgeHeaders(forge, 'x', c.trackedPush, c.secret)[sigHeader]!] } : headers;
    return post('wrong or missing signature', `/api/webhooks/${forge}`, doubled, c.trackedPush, [401]);
  },
  // Headers that identify no forge, or no delivery, or carry unusable ids.
  (n, c) => {
    const headers = forgeHeaders('github', `m-${n}`, c.trackedPush, c.secret);
    const variant = n % 4;
    if (variant === 0) return post('no forge headers', '/api/webhooks', { 'x-hub-signature-256': headers['x-hub-signature-256']! }, c.trackedPush, [400]);
    if (variant === 1) delete headers['x-github-delivery'];
    if (variant === 2) headers['x-github-delivery'] = 'd'.repeat(250);
    if (variant === 3) headers['x-github-delivery'] = 'caf\u00e9-\u00ff';
    return post('missing or unusable delivery id', n % 8 < 4 ? '/api/webhooks' : '/api/webhooks/github', headers, c.trackedPush, [400]);
  },
  // Odd content types over a correctly signed garbage body, and over the push with a wrong signature.
  (n, c) => {
    const contentType = pick(ODD_TYPES, n);
    const signed = n % 2 === 0;
    const body = signed ? pick(GARBAGE, n >> 1) : c.trackedPush;
    const headers = { ...forgeHeaders('github', `c-${n}`, body, signed ? c.secret : 'nope-nope'), 'content-type': contentType };
    return post('odd content type', '/api/webhooks/github', headers, body, signed ? [400] : [401]);
  },
  // Wrong methods on the webhook paths.
  (n) => {
    const method = pick(WRONG_METHODS, n);
    const path = pick(['/api/webhooks', '/api/webhooks/github', '/api/webhooks/gitlab'], n >> 4);
    return { kind: 'wrong method', method, path, headers: {}, body: Buffer.alloc(0), expected: [405] };
  },
  // Providers that do not exist, and paths next to the real ones.
  (n, c) => {
    const path = pick(['/api/webhooks/bitbucket', '/api/webhooks/GitHub', '/api/webhooks/__proto__', '/api/webhooks/constructor', '/api/webhooks/github/extra', `/api/webhooks/${'x'.repeat(2000)}`, '/api/webhooks/%ff%fe', '/api/webhooks//github'], n);
    return post('unknown provider', path, forgeHeaders('github', `u-${n}`, c.trackedPush, c.secret), c.trackedPush, [404]);
  },
  // Bodies over the limit, sent whole (chunked, no Content-Length); empty and blank bodies.
  (n, c) => {
    if (n % 16 !== 0) {
      const body = n % 2 === 0 ? '' : ' \r\n\t ';
      return post('empty or blank body', '/api/webhooks/github', forgeHeaders('github', `e-${n}`, body, c.secret), body, [400]);
    }
    const body = Buffer.alloc(c.maxBodyBytes + 1 + (n % 5000), 0x7b);
    const headers = { 'transfer-encoding': 'chunked', ...forgeHeaders('github', `o-${n}`, body, c.secret) };
    return { kind: 'oversized body', method: 'POST', path: '/api/webhooks/github', headers, body, expected: [413] };
  },
];

/** A generator of hostile requests: the n-th one; kinds take turns, and n varies the details within a kind. */
export function hostileRequests(ctx: HostileContext): (n: number) => HostileRequest {
  const memo = new Map<string, string>(); // tampered bodies, built once each
  return (n) => MAKERS[n % MAKERS.length]!(Math.floor(n / MAKERS.length), ctx, memo);
}
