// Go's time.ParseDuration syntax (`10s`, `1h30m`, `1.5h`, `500ms`), because Nomad and Consul take durations in that
// form: the spec keeps the string as written and code that needs a number calls parseGoDuration.
import { InvalidInputError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu; Go accepts both
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Milliseconds in a Go duration string; may be fractional or negative. Throws InvalidInputError when malformed. */
export function parseGoDuration(text: string): number {
  const invalid = () => new InvalidInputError('duration', `"${text}" is not a duration like 10s, 1h30m or 500ms`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  // Go accepts a bare zero and nothing else without a unit.
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  while (rest !== '') {
    const term = TERM.exec(rest);
    if (!term) throw invalid();
    total += Number(term[1]) * (UNIT_MS[term[2]!] ?? Number.NaN);
    rest = rest.slice(term[0].length);
  }
  return sign * total;
}

/** True when `text` parses as a Go duration. */
export function isGoDuration(text: string): boolean {
  try {
    parseGoDuration(text);
    return true;
  } catch {
    return false;
  }
}
