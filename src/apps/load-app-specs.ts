// Reads every `<appsDir>/<app>/infraspec.yaml`. A file that does not parse or validate is reported with the file,
// the field path and the reason, never dropped quietly: operators see it in the API, `norn validate` and the
// verdict of a delivery that would have matched it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { errorMessage } from '../errors.js';
import type { AppSpec } from './infraspec-schema.js';
import { repoIdentity } from './repo-identity.js';
import { validateAppSpec } from './validate-app-spec.js';

export const SPEC_FILE = 'infraspec.yaml';

export interface LoadedApp {
  readonly name: string;
  /** The app's directory (holds secrets.enc.yaml). */
  readonly dir: string;
  readonly file: string;
  readonly spec: AppSpec;
  /** Unknown fields and empty sections left out, and settings this receiver does not act on; never fatal. */
  readonly warnings: readonly SpecWarning[];
}

/** A warning about a loaded spec: where (field path, line) and what this receiver does about it. */
export interface SpecWarning {
  readonly path: string;
  readonly reason: string;
  readonly line?: number;
}

export interface SpecError {
  readonly file: string;
  /** Field path such as `processes.web.port`; '' when the file as a whole is at fault (unreadable, bad YAML). */
  readonly path: string;
  readonly reason: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
  /** Repo identity the broken file names, when readable, so a delivery for that repo can mention it. */
  readonly repo?: string;
}

export interface LoadedSpecs {
  readonly apps: LoadedApp[];
  readonly errors: SpecError[];
}

/**
 * Parse results by file, kept between reloads: a file whose text is unchanged is not parsed and validated again,
 * so picking up one edit in a large apps dir costs reading the files, not parsing them all.
 */
export type SpecParseCache = Map<string, { text: string; result: LoadedApp | { errors: SpecError[] } }>;

/** Spec files read at once (bounded, to stay clear of the open-file limit). */
const READ_CONCURRENCY = 64;

/** What one app dir holds: an app, the errors of its spec, or nothing (no spec file). */
export type AppDirResult = LoadedApp | { errors: SpecError[] } | undefined;

export async function loadAppSpecs(appsDir: string, cache?: SpecParseCache): Promise<LoadedSpecs> {
  const dirs = await listAppDirs(appsDir);
  if ('error' in dirs) return { apps: [], errors: [dirs.error] };
  const results = await loadAppDirs(appsDir, dirs, cache);
  return combineAppDirs(results);
}

/** Loads each of `dirs`, a bounded number at a time, in order; drops cache entries of dirs no longer listed. */
export async function loadAppDirs(appsDir: string, dirs: readonly string[], cache?: SpecParseCache): Promise<AppDirResult[]> {
  const results: AppDirResult[] = [];
  for (let i = 0; i < dirs.length; i += READ_CONCURRENCY) {
    results.push(...(await Promise.all(dirs.slice(i, i + READ_CONCURRENCY).map((d) => loadAppDir(appsDir, d, cache)))));
  }
  if (cache) {
    const current = new Set(dirs.map((d) => path.join(appsDir, d, SPEC_FILE)));
    for (const file of cache.keys()) if (!current.has(file)) cache.delete(file);
  }
  return results;
}

/** The app dirs under `appsDir`, sorted (dot dirs are not apps). */
export async function listAppDirs(appsDir: string): Promise<string[] | { error: SpecError }> {
  try {
    const entries = await readdir(appsDir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    return { error: { file: appsDir, path: '', reason: `cannot read the apps dir: ${errorMessage(err)}` } };
  }
}

/** The apps and errors of app dirs' results, in dir order; a name already taken by an earlier dir is an error. */
export function combineAppDirs(results: Iterable<AppDirResult>): LoadedSpecs {
  const apps: LoadedApp[] = [];
  const errors: SpecError[] = [];
  const files = new Map<string, string>(); // app name -> file that claimed it first
  for (const result of results) {
    if (!result) continue;
    if ('errors' in result) {
      errors.push(...result.errors);
      continue;
    }
    const earlier = files.get(result.name);
    if (earlier) {
      errors.push({ file: result.file, path: 'name', reason: `app name "${result.name}" is already used by ${earlier}` });
      continue;
    }
    files.set(result.name, result.file);
    apps.push(result);
  }
  return { apps, errors };
}

/** Reads and checks `<appsDir>/<dir>/infraspec.yaml`, through `cache` when given. */
export function loadAppDir(appsDir: string, dir: string, cache?: SpecParseCache): Promise<AppDirResult> {
  return loadOne(path.join(appsDir, dir), cache);
}

async function loadOne(dir: string, cache?: SpecParseCache): Promise<AppDirResult> {
  const file = path.join(dir, SPEC_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { errors: [{ file, path: '', reason: `cannot read: ${errorMessage(err)}` }] };
    }
    // A directory without a spec is not an app, unless the spec is there under the wrong extension.
    const misnamed = path.join(dir, 'infraspec.yml');
    const hasYml = await readFile(misnamed).then(() => true, () => false);
    return hasYml ? { errors: [{ file: misnamed, path: '', reason: `rename to ${SPEC_FILE}: only that name is read` }] } : undefined;
  }
  const cached = cache?.get(file);
  if (cached && cached.text === text) return cached.result;
  const result = parseSpecFile(file, text);
  cache?.set(file, { text, result });
  return result;
}

/** Parses and validates one spec's text; exported for `norn validate` and the API's dry runs. */
export function parseSpecFile(file: string, text: string): LoadedApp | { errors: SpecError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.map((e) => {
        const { line } = lineCounter.linePos(e.pos[0]);
        return { file, path: '', line, reason: `YAML line ${line}: ${e.message.split('\n')[0]!.replace(/; please use .*$/, '')}` };
      }),
    };
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return { errors: [{ file, path: '', reason: 'the file is empty' }] };
  const validation = validateAppSpec(raw);
  if (validation.ok) {
    const warnings = validation.warnings.map((w) => {
      const line = lineOf(doc, lineCounter, w.path);
      return { path: w.path, reason: w.reason, ...(line ? { line } : {}) };
    });
    return { name: validation.spec.name, dir: path.dirname(file), file, spec: validation.spec, warnings };
  }
  const repo = rawRepoIdentity(raw);
  return {
    errors: validation.issues.map((issue) => {
      const line = lineOf(doc, lineCounter, issue.path);
      return { file, path: issue.path, reason: issue.reason, ...(line ? { line } : {}), ...(repo ? { repo } : {}) };
    }),
  };
}

/** The line of the field, or of its nearest present parent when the field is missing. */
function lineOf(doc: Document, lineCounter: LineCounter, fieldPath: string): number | undefined {
  const segments = fieldPath === '' ? [] : pathSegments(fieldPath);
  for (let n = segments.length; n > 0; n--) {
    const node = doc.getIn(segments.slice(0, n), true) as { range?: [number, ...number[]] } | undefined;
    if (node?.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

function pathSegments(fieldPath: string): (string | number)[] {
  return fieldPath.split(/\.|(?=\[)/).map((s) => (/^\[\d+\]$/.test(s) ? Number(s.slice(1, -1)) : s));
}

function rawRepoIdentity(raw: unknown): string | undefined {
  const url = (raw as { repo?: { url?: unknown } } | null)?.repo?.url;
  return typeof url === 'string' ? repoIdentity(url) : undefined;
}
