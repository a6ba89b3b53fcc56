// Whether a cron schedule (the five fields minute hour day-of-month month day-of-week, an optional year, or an
// @-macro) is due at a given minute in a time zone. Day of month and day of week follow cron's rule: when both
// are restricted, either one matching is enough. Names (JAN, MON) are accepted; L, W and # are not (a schedule
// using them never fires here; Nomad's parser accepts them).
import { CRON_FIELDS, CRON_MACROS } from '../apps/cron-expression.js';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export interface WallClock {
  minute: number;
  hour: number;
  day: number;
  month: number;
  /** 0 = Sunday */
  weekday: number;
  year: number;
}

/** The wall-clock fields of `at` in `timeZone` (default UTC). */
export function wallClock(at: Date, timeZone = 'UTC'): WallClock {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    day: Number(parts.day),
    month: Number(parts.month),
    weekday: DAYS.indexOf(String(parts.weekday).toUpperCase()),
    year: Number(parts.year),
  };
}

export function cronMatches(expr: string, at: WallClock): boolean {
  const fields = (CRON_MACROS[expr.trim()] ?? expr).trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return false;
  const values = [at.minute, at.hour, at.day, at.month, at.weekday, at.year];
  const matched = fields.map((f, i) => fieldMatches(f, values[i]!, i));
  const [minute, hour, dom, month, dow, year = true] = matched;
  const domRestricted = fields[2] !== '*' && fields[2] !== '?';
  const dowRestricted = fields[4] !== '*' && fields[4] !== '?';
  const day = domRestricted && dowRestricted ? dom || dow : dom && dow;
  return Boolean(minute && hour && month && year && day);
}

function fieldMatches(field: string, value: number, index: number): boolean {
  const { min, max } = CRON_FIELDS[index]!;
  const names = index === 3 ? MONTHS : index === 4 ? DAYS : [];
  const num = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    if (named >= 0) return index === 3 ? named + 1 : named;
    return /^\d+$/.test(text) ? Number(text) : NaN;
  };
  return field.split(',').some((part) => {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(num) as [number, number];
    else [lo, hi] = [num(range), stepText === undefined ? num(range) : max];
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(step >= 1)) return false;
    for (let v = lo; v <= hi; v += step) {
      if (v === value || (index === 4 && v === 7 && value === 0)) return true;
    }
    return false;
  });
}
