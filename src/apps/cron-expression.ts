// A sanity check of cron strings before they reach Nomad, whose parser (cronexpr) takes five fields
// (minute hour day-of-month month day-of-week), an optional sixth for the year, or an @-macro.
// It catches the mistakes people make (wrong field count, minute 60, stray characters); Nomad remains the judge
// of the finer syntax (L, W, #, names).

/** The @-macros cron knows, and the five fields each stands for. */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The fields of a cron schedule in order, with their ranges (day of week 0-7: both 0 and 7 are Sunday). */
export const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
  { name: 'year', min: 1970, max: 2099 },
] as const;

/** Why `expr` is not a usable cron schedule, or undefined when it looks fine. */
export function cronProblem(expr: string): string | undefined {
  const trimmed = expr.trim();
  if (trimmed.startsWith('@')) {
    return trimmed in CRON_MACROS ? undefined : `unknown macro ${trimmed} (use one of ${Object.keys(CRON_MACROS).join(', ')})`;
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `has ${fields.length} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (plus year)`;
  }
  for (const [i, field] of fields.entries()) {
    const problem = fieldProblem(field, CRON_FIELDS[i]!);
    if (problem) return problem;
  }
  return undefined;
}

function fieldProblem(field: string, spec: (typeof CRON_FIELDS)[number]): string | undefined {
  if (!/^[0-9A-Za-z*?,/#-]+$/.test(field)) return `${spec.name} field "${field}" has characters cron does not use`;
  for (const part of field.split(',')) {
    const [range = '', step, extra] = part.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) {
      return `${spec.name} field "${field}" has a bad step`;
    }
    // Only plain numbers are range-checked; names and L/W/# forms are left to Nomad.
    for (const bound of range.split('-')) {
      if (/^\d+$/.test(bound) && (Number(bound) < spec.min || Number(bound) > spec.max)) {
        return `${spec.name} ${bound} is out of range ${spec.min}-${spec.max}`;
      }
      if (bound === '') return `${spec.name} field "${field}" has an empty value`;
    }
  }
  return undefined;
}
