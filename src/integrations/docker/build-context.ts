// Packs a build context the way `docker build` does: the context directory as a tar, minus what `.dockerignore`
// excludes (Docker's own matching rules, via @balena/dockerignore), with the Dockerfile always included. Paths
// from the spec are confined to the checkout: `..`, absolute paths and symlinks that lead outside are refused.
import { readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import balenaDockerignore from '@balena/dockerignore';
import { pack } from 'tar-fs';

// CommonJS whose types declare an ES default: at run time the factory is both the module and its `default`.
const dockerignore = balenaDockerignore.default;

/** A spec path that would leave the repository; `field` is the spec field at fault (e.g. `build.context`). */
export class PathEscapeError extends Error {
  constructor(
    readonly field: string,
    readonly value: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${field} "${value}" ${reason}`, options);
    this.name = 'PathEscapeError';
  }
}

/**
 * Resolves `relative` inside `repoDir`, following symlinks, and returns the real path. Throws PathEscapeError
 * when the path is absolute, climbs out with `..`, or is (or passes through) a symlink leading outside the repo.
 */
export async function resolveInRepo(repoDir: string, field: string, relative: string): Promise<string> {
  if (path.isAbsolute(relative)) throw new PathEscapeError(field, relative, 'must be relative to the repository root');
  if (relative.split(/[/\\]/).includes('..')) throw new PathEscapeError(field, relative, 'must not contain ".."');
  const root = await realpath(repoDir);
  let real: string;
  try {
    real = await realpath(path.join(root, relative));
  } catch (err) {
    throw new PathEscapeError(field, relative, 'does not exist in the repository', { cause: err });
  }
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new PathEscapeError(field, relative, 'leads outside the repository (through a symlink)');
  }
  return real;
}

export interface PackedContext {
  readonly tar: NodeJS.ReadableStream;
  /** The Dockerfile's path inside the tar, as the engine's `dockerfile` parameter wants it. */
  readonly dockerfile: string;
  /** How many entries `.dockerignore` left out (files, or whole directories). */
  readonly ignoredCount: number;
}

// The Docker CLI also sends a Dockerfile that lives outside the context, under a generated name.
const OUTSIDE_DOCKERFILE_NAME = '.norn-dockerfile';

/** What a build sends: the context's entries after `.dockerignore`, and where the Dockerfile sits. */
export interface ContextListing {
  /** Paths relative to the context (posix), directories included, that go into the tar. */
  readonly included: ReadonlySet<string>;
  /** How many entries `.dockerignore` left out (files, or whole directories). */
  readonly ignoredCount: number;
  /** The Dockerfile's path inside the context, or undefined when it lives outside it. */
  readonly dockerfileInContext?: string;
}

/** Walks `contextDir` (a real path) as `docker build` would, applying `.dockerignore`; the Dockerfile always stays. */
export async function listBuildContext(contextDir: string, dockerfilePath: string): Promise<ContextListing> {
  const relDockerfile = path.relative(contextDir, dockerfilePath);
  const inContext = !relDockerfile.startsWith('..') && !path.isAbsolute(relDockerfile);
  const patterns = await readIgnorePatterns(contextDir);
  const matcher = dockerignore({ ignorecase: false }).add(patterns);
  const hasExceptions = patterns.some((p) => p.trim().startsWith('!'));
  const always = new Set(['.dockerignore', ...(inContext ? [toPosix(relDockerfile)] : [])]);

  const included = new Set<string>();
  let ignoredCount = 0;
  const walk = async (dirRel: string): Promise<void> => {
    const entries = await readdir(path.join(contextDir, dirRel), { withFileTypes: true });
    for (const entry of entries) {
      const rel = dirRel === '' ? entry.name : `${dirRel}/${entry.name}`;
      const ignored = !always.has(rel) && matcher.ignores(rel);
      // An ignored directory can still hold a file an `!exception` brings back; only then is it walked.
      const isWalked =
        entry.isDirectory() && (!ignored || hasExceptions || [...always].some((a) => a.startsWith(rel + '/')));
      if (isWalked) await walk(rel);
      // A walked directory's ignored files are counted one by one; a pruned one counts once.
      if (ignored && !isWalked) ignoredCount += 1;
      else if (!ignored) addWithParents(included, rel);
    }
  };
  await walk('');
  return { included, ignoredCount, dockerfileInContext: inContext ? toPosix(relDockerfile) : undefined };
}

/**
 * Packs `contextDir` (a real path) with `dockerfilePath` (a real path, inside or outside the context). `listing`
 * is the context's listBuildContext, when the caller has it already.
 */
export async function packBuildContext(contextDir: string, dockerfilePath: string, listing?: ContextListing): Promise<PackedContext> {
  const { included, ignoredCount, dockerfileInContext } = listing ?? (await listBuildContext(contextDir, dockerfilePath));
  const inContext = dockerfileInContext !== undefined;
  const tar = pack(contextDir, {
    ignore: (abs: string) => !included.has(toPosix(path.relative(contextDir, abs))),
    finalize: inContext,
    finish: inContext
      ? undefined
      : (p) => {
          readFile(dockerfilePath).then(
            (content) => {
              p.entry({ name: OUTSIDE_DOCKERFILE_NAME, mode: 0o644 }, content);
              p.finalize();
            },
            (err: unknown) => p.destroy(err as Error),
          );
        },
  });
  return { tar: tar as unknown as NodeJS.ReadableStream, dockerfile: dockerfileInContext ?? OUTSIDE_DOCKERFILE_NAME, ignoredCount };
}

async function readIgnorePatterns(contextDir: string): Promise<string[]> {
  try {
    const text = await readFile(path.join(contextDir, '.dockerignore'), 'utf8');
    return text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Adds `rel` and its parent directories (a file brought back by an exception needs its directory in the tar). */
function addWithParents(set: Set<string>, rel: string): void {
  for (let p = rel; p !== '.' && p !== '' && !set.has(p); p = path.posix.dirname(p)) set.add(p);
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
