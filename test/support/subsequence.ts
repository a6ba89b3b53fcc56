import { expect } from 'chai';

/** Asserts that `expected` appears in `actual` in this order, other items allowed in between. */
export function expectSubsequence(actual: readonly string[], expected: readonly string[]): void {
  let i = 0;
  for (const item of actual) if (item === expected[i]) i++;
  expect(i, `expected ${JSON.stringify(expected)} in order within ${JSON.stringify(actual)}`).to.equal(expected.length);
}
