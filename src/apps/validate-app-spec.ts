// Runs the infraspec schema and turns zod's issues into `{ path, reason }` a person can act on: the dotted field
// path (`processes.web.port`), "is required" for a missing field, and for a misspelt field the nearest real one.
// Reasons never echo the offending value, since env maps and commands can carry sensitive text.
import type { z } from 'zod';
import { infraspecSchema, type AppSpec } from './infraspec-schema.js';

export interface SpecIssue {
  /** Field path such as `processes.web.port` or `endpoints[0].url`; '' for the document itself. */
  readonly path: string;
  readonly reason: string;
}

export type SpecValidation = { ok: true; spec: AppSpec } | { ok: false; issues: SpecIssue[] };

export function validateAppSpec(input: unknown): SpecValidation {
  // reportInput lets us tell a missing field (input undefined) from a wrong one; the input itself is not kept.
  const result = infraspecSchema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, spec: result.data };
  return { ok: false, issues: result.error.issues.flatMap(toSpecIssues) };
}

/** Formats a path from zod or YAML segments: keys joined by dots, list indices in brackets. */
export function formatFieldPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`))
    .join('');
}

function toSpecIssues(issue: z.core.$ZodIssue): SpecIssue[] {
  const path = formatFieldPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(issue.path);
      return issue.keys.map((key) => ({
        path: formatFieldPath([...issue.path, key]),
        reason: `unknown field "${key}"${suggestion(key, known)}`,
      }));
    }
    case 'invalid_key':
      return [{ path, reason: issue.issues[0]?.message ?? 'invalid key' }];
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, reason: 'is required' }];
      if (issue.message.startsWith('Invalid input')) {
        return [{ path, reason: `must be ${describeType(issue.expected)}, not ${describeValue(issue.input)}` }];
      }
      return [{ path, reason: issue.message }];
    default:
      return [{ path, reason: issue.message }];
  }
}

function describeType(expected: string): string {
  const names: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list', boolean: 'true or false', int: 'a whole number' };
  return names[expected] ?? `a ${expected}`;
}

function describeValue(input: unknown): string {
  if (input === null) return 'empty (null)';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `a ${typeof input}`;
}

/** The field names the schema allows at `path`, found by walking the schema's definition. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let node: z.core.$ZodType | undefined = infraspecSchema;
  for (const segment of [undefined, ...path]) {
    if (segment !== undefined) node = child(node, segment);
    node = unwrap(node);
  }
  const def = node?._zod.def;
  return def?.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
}

function unwrap(node: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = node;
  for (;;) {
    const def = current?._zod.def as { type?: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType } | undefined;
    if (def?.innerType) current = def.innerType;
    else if (def?.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function child(node: z.core.$ZodType | undefined, segment: PropertyKey): z.core.$ZodType | undefined {
  const def = node?._zod.def as
    | { type: 'object'; shape: Record<string, z.core.$ZodType> }
    | { type: 'record'; valueType: z.core.$ZodType }
    | { type: 'array'; element: z.core.$ZodType }
    | { type: string }
    | undefined;
  if (def && 'shape' in def) return def.shape[String(segment)];
  if (def && 'valueType' in def) return def.valueType;
  if (def && 'element' in def) return def.element;
  return undefined;
}

function suggestion(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const best = known
    .map((k) => ({ k, d: editDistance(lower, k.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)[0];
  if (best && best.d <= Math.max(1, Math.floor(key.length / 3))) return ` (did you mean "${best.k}"?)`;
  return known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
