// The per-address refusal limit: what is recorded one by one, what is counted, and when counted refusals become
// an aggregate, with memory bounded however many addresses send.
import { expect } from 'chai';
import { RejectionThrottle } from '../../../src/deliveries/rejection-throttle.js';

describe('RejectionThrottle', () => {
  it('records the first N refusals of an address per minute and counts the rest with a Retry-After to the minute end', () => {
    const throttle = new RejectionThrottle({ perMinute: 2 });
    const t0 = Date.parse('2026-12-06T12:00:00Z');
    expect(throttle.admit('10.0.0.1', 401, 'bad signature', t0)).to.deep.equal({ record: true });
    expect(throttle.admit('10.0.0.1', 401, 'bad signature', t0 + 1000)).to.deep.equal({ record: true });
    expect(throttle.admit('10.0.0.1', 400, 'no delivery id', t0 + 20_000)).to.deep.equal({ record: false, retryAfterSeconds: 40 });
    expect(throttle.admit('10.0.0.2', 401, 'bad signature', t0 + 20_000)).to.deep.equal({ record: true }); // its own limit
    expect(throttle.drain(t0 + 59_000)).to.deep.equal([]); // the minute is not over
    const [aggregate, ...more] = throttle.drain(t0 + 60_000);
    expect(more).to.deep.equal([]);
    expect(aggregate).to.deep.equal({ source: '10.0.0.1', count: 1, firstAt: '2026-12-06T12:00:20.000Z', lastAt: '2026-12-06T12:00:20.000Z', lastReason: 'no delivery id', statuses: { 400: 1 } });
    // A new minute starts afresh.
    expect(throttle.admit('10.0.0.1', 401, 'bad signature', t0 + 61_000)).to.deep.equal({ record: true });
  });

  it('counts refusals of a busy receiver without using up the address limit', () => {
    const throttle = new RejectionThrottle({ perMinute: 1 });
    throttle.count('10.0.0.1', 503, 'busy', 0);
    throttle.count('10.0.0.1', 503, 'busy', 10);
    expect(throttle.admit('10.0.0.1', 401, 'bad signature', 20)).to.deep.equal({ record: true });
    expect(throttle.drain(0, true)).to.deep.equal([{ source: '10.0.0.1', count: 2, firstAt: new Date(0).toISOString(), lastAt: new Date(10).toISOString(), lastReason: 'busy', statuses: { 503: 2 } }]);
  });

  it('tracks a bounded number of addresses, closing the oldest window early', () => {
    const throttle = new RejectionThrottle({ perMinute: 1, maxSources: 3 });
    for (let i = 0; i < 10; i++) {
      throttle.admit(`10.0.0.${i}`, 401, 'x', 0);
      throttle.admit(`10.0.0.${i}`, 401, 'x', 0);
    }
    const early = throttle.drain(0);
    expect(early.map((a) => a.source)).to.deep.equal(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(throttle.drain(0, true).map((a) => a.source)).to.deep.equal(['10.0.0.7', '10.0.0.8', '10.0.0.9']);
  });
});
