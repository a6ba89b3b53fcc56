import { expect } from 'chai';
import { InvalidInputError } from '../../../src/errors.js';
import { isGoDuration, parseGoDuration } from '../../../src/apps/go-duration.js';

describe('parseGoDuration', () => {
  const valid: [string, number][] = [
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1m30s250ms', 90_250],
    ['0', 0],
    ['-5s', -5_000],
    ['1500us', 1.5],
    ['1000000ns', 1],
  ];
  for (const [text, ms] of valid) {
    it(`reads ${text} as ${ms} ms`, () => expect(parseGoDuration(text)).to.be.closeTo(ms, 1e-9));
  }

  for (const text of ['', '10', '10 s', '1d', 's', '1h 30m', '5sec', '.s', '--1s', '1.2.3s']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseGoDuration(text)).to.throw(InvalidInputError, 'is not a duration');
      expect(isGoDuration(text)).to.equal(false);
    });
  }
});
