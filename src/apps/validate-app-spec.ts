// Runs the infraspec schema and turns zod's issues into `{ path, reason }` a person can act on: the dotted field
// path (`processes.web.port`), "is required" for a missing field, and for a misspelt field the nearest real one.
// Reasons never echo the offending value, since env maps and commands can carry sensitive text.
//
// Norn v2 ignores fields it does not know and empty sections (`env:` with nothing under it), so specs written for it
// carry both. Here they are not a reason to refuse the spec: they are dropped before the schema runs and come back
// as warnings (with the nearest real field for a likely typo), shown wherever the spec's state is shown.
import type { z } from 'zod';
import { infraspecSchema, type AppSpec } from './infraspec-schema.js';
import { specNotices } from './spec-notices.js';

export interface SpecIssue {
  /** Field path such as `processes.web.port` or `endpoints[0].url`; '' for the document itself. */
  readonly path: string;
  readonly reason: string;
}

/**
 * `warnings` are what the spec says that this receiver leaves aside: unknown fields and empty sections (dropped),
 * and settings it accepts but does not act on. They never stop a spec from loading.
 */
export type SpecValidation =
  | { ok: true; spec: AppSpec; warnings: SpecIssue[] }
  | { ok: false; issues: SpecIssue[]; warnings: SpecIssue[] };

export function validateAppSpec(input: unknown): SpecValidation {
  const warnings: SpecIssue[] = [];
  const relaxed = relax(input, infraspecSchema, [], warnings);
  // reportInput lets us tell a missing field (input undefined) from a wrong one; the input itself is not kept.
  const result = infraspecSchema.safeParse(relaxed, { reportInput: true });
  if (result.success) return { ok: true, spec: result.data, warnings: [...warnings, ...specNotices(result.data, input)] };
  return { ok: false, issues: result.error.issues.flatMap(toSpecIssues), warnings };
}

/**
 * A copy of `value` without the fields `node` does not declare and without empty (null) values, each left-out
 * one noted in `warnings`. Only mappings are walked; anything else is left to the schema to judge.
 */
function relax(value: unknown, schema: z.core.$ZodType | undefined, path: readonly PropertyKey[], warnings: SpecIssue[]): unknown {
  const shape = shapeOf(schema);
  if (Array.isArray(value) && shape.kind === 'array') return value.map((v, i) => relax(v, shape.element, [...path, i], warnings));
  if (!isMapping(value)) return value;
  if (shape.kind === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const v = value[key];
      const child = Object.hasOwn(shape.fields, key) ? shape.fields[key] : undefined;
      if (!child) warnings.push({ path: formatFieldPath([...path, key]), reason: `unknown field "${key}" is ignored${suggestion(key, Object.keys(shape.fields))}` });
      else if (v === null) {
        const at = formatFieldPath([...path, key]);
        warnings.push({ path: at, reason: EMPTY_MEANS[at] ?? 'is empty and is ignored (the default applies)' });
      } else setOwn(out, key, isMapping(v) || Array.isArray(v) ? relax(v, child, [...path, key], warnings) : v);
    }
    return out;
  }
  if (shape.kind === 'record') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const v = value[key];
      // `web:` with nothing under it declares a process with every default; an empty env value is "" as in Norn.
      if (v === null && shape.valueKind === 'object') setOwn(out, key, {});
      else if (v === null && shape.valueKind !== 'unknown') {
        warnings.push({ path: formatFieldPath([...path, key]), reason: 'is empty; it is set to an empty string' });
        setOwn(out, key, '');
      } else setOwn(out, key, isMapping(v) || Array.isArray(v) ? relax(v, shape.values, [...path, key], warnings) : v);
    }
    return out;
  }
  return value;
}

type Shape =
  | { kind: 'object'; fields: Record<string, z.core.$ZodType> }
  | { kind: 'record'; values: z.core.$ZodType; valueKind: string | undefined }
  | { kind: 'array'; element: z.core.$ZodType }
  | { kind: 'other' };

/** What relax needs of a schema node, worked out once per node: specs are relaxed on every load of every app. */
const shapes = new WeakMap<z.core.$ZodType, Shape>();

function shapeOf(schema: z.core.$ZodType | undefined): Shape {
  if (!schema) return { kind: 'other' };
  let shape = shapes.get(schema);
  if (!shape) {
    const def = unwrap(schema)?._zod.def as { type?: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType; element?: z.core.$ZodType } | undefined;
    if (def?.type === 'object' && def.shape) shape = { kind: 'object', fields: def.shape };
    else if (def?.type === 'record' && def.valueType) shape = { kind: 'record', values: def.valueType, valueKind: unwrap(def.valueType)?._zod.def.type };
    else if (def?.type === 'array' && def.element) shape = { kind: 'array', element: def.element };
    else shape = { kind: 'other' };
    shapes.set(schema, shape);
  }
  return shape;
}

/** What an empty top-level section means, where "the default applies" would not say it. */
const EMPTY_MEANS: Readonly<Record<string, string>> = {
  build: 'is empty: nothing is built (as in Norn); the deploy runs image, else <name>:latest',
  repo: 'is empty: the app has no repo and deploys its own directory (as in Norn)',
};

/** Sets an own property, even one named `__proto__` (a spec's key must never change the copy's prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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
    else if (def?.type === 'union' && Array.isArray((def as { options?: unknown }).options)) {
      // A field given in several forms (a string or a mapping): walk the mapping form.
      const options = (def as unknown as { options: z.core.$ZodType[] }).options;
      const mapping = options.find((o) => unwrap(o)?._zod.def.type === 'object');
      return mapping ? unwrap(mapping) : current;
    }
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
