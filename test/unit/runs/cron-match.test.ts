import { expect } from 'chai';
import { cronMatches, wallClock } from '../../../src/runs/cron-match.js';

const at = (iso: string, tz?: string) => wallClock(new Date(iso), tz);

describe('cronMatches', () => {
  it('reads the schedule in its time zone', () => {
    // 02:00 UTC on a winter day is 03:00 in Berlin.
    expect(cronMatches('0 3 * * *', at('2026-01-15T02:00:00Z', 'Europe/Berlin'))).to.equal(true);
    expect(cronMatches('0 3 * * *', at('2026-01-15T03:00:00Z', 'Europe/Berlin'))).to.equal(false);
    expect(cronMatches('0 3 * * *', at('2026-01-15T03:00:00Z'))).to.equal(true);
  });

  it('handles steps, ranges, lists, names, macros and Sunday as 0 or 7', () => {
    expect(cronMatches('*/15 * * * *', at('2026-03-02T10:45:00Z'))).to.equal(true);
    expect(cronMatches('*/15 * * * *', at('2026-03-02T10:46:00Z'))).to.equal(false);
    expect(cronMatches('0 9-17/4 * * MON-FRI', at('2026-03-02T13:00:00Z'))).to.equal(true); // a Monday
    expect(cronMatches('0 9-17/4 * * MON-FRI', at('2026-03-01T13:00:00Z'))).to.equal(false); // a Sunday
    expect(cronMatches('0 0 * * 7', at('2026-03-01T00:00:00Z'))).to.equal(true);
    expect(cronMatches('5,10 0 1 JAN *', at('2026-01-01T00:10:00Z'))).to.equal(true);
    expect(cronMatches('@hourly', at('2026-01-01T07:00:00Z'))).to.equal(true);
    expect(cronMatches('@daily', at('2026-01-01T07:00:00Z'))).to.equal(false);
  });

  it('matches either day field when both are restricted, as cron does', () => {
    expect(cronMatches('0 0 13 * FRI', at('2026-03-13T00:00:00Z'))).to.equal(true);
    expect(cronMatches('0 0 13 * FRI', at('2026-03-06T00:00:00Z'))).to.equal(true); // a Friday, not the 13th
    expect(cronMatches('0 0 13 * FRI', at('2026-03-07T00:00:00Z'))).to.equal(false);
  });
});
