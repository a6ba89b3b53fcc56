import { expect } from 'chai';
import { classifyResponse, upstreamMessageOf } from '../../../../src/integrations/forge-status/classify-response.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('classifying a forge answer', () => {
  it('2xx is delivered', () => {
    expect(classifyResponse(201, headers({}), '', NOW)).to.deep.equal({ kind: 'delivered' });
  });

  it('5xx is retried, honouring Retry-After when the forge sends it', () => {
    expect(classifyResponse(502, headers({}), '', NOW)).to.include({ kind: 'retry', scope: 'request', retryAfterMs: undefined });
    expect(classifyResponse(503, headers({ 'retry-after': '7' }), '', NOW)).to.include({ kind: 'retry', retryAfterMs: 7000 });
  });

  it('429 pauses the forge for Retry-After seconds or until an HTTP date', () => {
    expect(classifyResponse(429, headers({ 'retry-after': '3' }), '', NOW)).to.include({ kind: 'retry', scope: 'forge', retryAfterMs: 3000 });
    const at = new Date(NOW + 10_000).toUTCString();
    expect(classifyResponse(429, headers({ 'retry-after': at }), '', NOW)).to.include({ retryAfterMs: 10_000 });
  });

  it('403 with no requests remaining waits until X-RateLimit-Reset (a little past it)', () => {
    const reset = String(NOW / 1000 + 30);
    const r = classifyResponse(403, headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), 'API rate limit exceeded', NOW);
    expect(r).to.include({ kind: 'retry', scope: 'forge' });
    expect((r as { retryAfterMs: number }).retryAfterMs).to.be.within(30_000, 31_000);
  });

  it("a secondary rate limit without a hint waits a minute, as GitHub's docs advise", () => {
    expect(classifyResponse(403, headers({}), 'You have exceeded a secondary rate limit', NOW)).to.include({ kind: 'retry', scope: 'forge', retryAfterMs: 60_000 });
  });

  it('GitLab RateLimit-Reset is honoured too', () => {
    expect(classifyResponse(429, headers({ 'ratelimit-reset': String(NOW / 1000 + 5) }), '', NOW)).to.include({ retryAfterMs: 5250 });
  });

  for (const status of [401, 403, 404, 422, 400]) {
    it(`${status} without a rate limit is permanent`, () => {
      expect(classifyResponse(status, headers({}), 'nope', NOW).kind).to.equal('permanent');
    });
  }

  it("reads the forge's message and field errors from a JSON body", () => {
    const body = JSON.stringify({ message: 'Validation Failed', errors: [{ field: 'description', code: 'custom', message: 'description is too long (maximum is 140 characters)' }] });
    expect(upstreamMessageOf(body)).to.equal('Validation Failed; description is too long (maximum is 140 characters)');
    expect(upstreamMessageOf('<html>\n bad gateway </html>')).to.equal('<html> bad gateway </html>');
  });
});
