// A bare repository per remote under the cache dir, from which each deploy's work tree is written: the first deploy
// of a repository fetches its commit whole, later ones only the objects their commit changed.
//
// One lock file per repository (`<key>.lock`, see file-lock.ts) serialises fetch + checkout, across the deploys of
// several apps from one repository and across receiver processes; a lock left by a crash is broken. The cache is
// bounded: after each use, the least recently used repositories are removed (never one that is locked) until the
// total size is within `maxBytes`. A repository that cannot serve a commit (corrupt pack, half-written by a crash)
// is removed and fetched again, so a broken cache costs one full fetch, never a failed deploy.
import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FileLock, LockTimeoutError } from '../../files/file-lock.js';
import type { GitClient } from './git-client.js';

export interface RepoCacheConfig {
  readonly dir: string;
  /** Total size the cache is trimmed back to after each use. */
  readonly maxBytes: number;
  /** Longest wait for another deploy's use of the same repository; also how old a lock must be to be broken. */
  readonly lockTimeoutMs: number;
}

/** How a checkout was served, for the clone step's report. */
export type CacheOutcome = 'reused' | 'created' | 'rebuilt';

const LAST_USED = 'norn-last-used';

export class RepoCache {
  private readonly lock: FileLock;
  /** Eviction never waits: a repository someone holds is in use and stays. */
  private readonly tryLock: FileLock;

  constructor(
    private readonly config: RepoCacheConfig,
    private readonly deps: { git: Pick<GitClient, 'fetchIntoCache' | 'checkoutFromCache'>; onEvictError?: (err: unknown, entry: string) => void },
  ) {
    // A holder may keep the lock for a whole clone step; only a lock older than that is a dead holder's.
    this.lock = new FileLock({ timeoutMs: config.lockTimeoutMs, staleMs: config.lockTimeoutMs * 2, retryMs: 200 });
    this.tryLock = new FileLock({ timeoutMs: 0, staleMs: config.lockTimeoutMs * 2 });
  }

  /** Fetches `sha` from `url` through the cache and writes its files into the empty or absent `workDir`. */
  async checkout(url: string, sha: string, workDir: string, opts: { signal?: AbortSignal } = {}): Promise<CacheOutcome> {
    await fs.mkdir(this.config.dir, { recursive: true });
    const key = cacheKey(url);
    const repoDir = path.join(this.config.dir, key);
    const outcome = await this.lock.withLock(
      `${repoDir}.lock`,
      async () => {
        const existed = await exists(path.join(repoDir, 'HEAD'));
        const attempt = async () => {
          await this.deps.git.fetchIntoCache(url, sha, repoDir, opts);
          await this.deps.git.checkoutFromCache(repoDir, sha, workDir, opts);
        };
        let result: CacheOutcome = existed ? 'reused' : 'created';
        try {
          await attempt();
        } catch (err) {
          // A fresh repository that fails is the remote's doing (or the deadline's): nothing to heal.
          if (!existed || opts.signal?.aborted) throw err;
          await removeAside(repoDir);
          await emptyDir(workDir);
          await attempt();
          result = 'rebuilt';
        }
        const now = new Date();
        await fs.writeFile(path.join(repoDir, LAST_USED), '');
        await fs.utimes(path.join(repoDir, LAST_USED), now, now);
        // One repository larger than the whole budget is not kept: the next deploy fetches it whole again.
        if ((await sizeOf(repoDir)) > this.config.maxBytes) await removeAside(repoDir);
        return result;
      },
      opts.signal,
    );
    await this.evict(key);
    return outcome;
  }

  /** Removes least recently used repositories (not `inUse`, not locked) until the cache fits in `maxBytes`. */
  async evict(inUse?: string): Promise<void> {
    const entries = await this.entries();
    let total = entries.reduce((sum, e) => sum + e.bytes, 0);
    for (const entry of entries) {
      if (total <= this.config.maxBytes) return;
      if (entry.key === inUse) continue;
      const repoDir = path.join(this.config.dir, entry.key);
      try {
        await this.tryLock.withLock(`${repoDir}.lock`, () => removeAside(repoDir));
        total -= entry.bytes;
      } catch (err) {
        if (!(err instanceof LockTimeoutError)) this.deps.onEvictError?.(err, entry.key);
      }
    }
  }

  /** The cached repositories, least recently used first; leftovers of interrupted removals are removed here. */
  private async entries(): Promise<{ key: string; bytes: number; lastUsed: number }[]> {
    const found: { key: string; bytes: number; lastUsed: number }[] = [];
    for (const dirent of await fs.readdir(this.config.dir, { withFileTypes: true })) {
      if (!dirent.isDirectory()) continue;
      const full = path.join(this.config.dir, dirent.name);
      if (dirent.name.includes('.removing-')) {
        await fs.rm(full, { recursive: true, force: true });
        continue;
      }
      const lastUsed = await fs.stat(path.join(full, LAST_USED)).then(
        (s) => s.mtimeMs,
        () => 0,
      );
      found.push({ key: dirent.name, bytes: await sizeOf(full), lastUsed });
    }
    return found.sort((a, b) => a.lastUsed - b.lastUsed);
  }
}

/**
 * The directory name of a remote's cache: a readable tail of its path plus a hash of the whole URL. The hash keeps
 * user info (which may carry a credential) out of the file system, and tells apart remotes with the same name.
 */
export function cacheKey(url: string): string {
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 16);
  const tail = url.replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/\.git$/i, '').split(/[/:]/).pop() ?? '';
  const name = tail.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
  return name ? `${name}-${hash}` : hash;
}

/** Renames first, so a crash mid-removal never leaves a half-deleted repository under its real name. */
async function removeAside(dir: string): Promise<void> {
  const aside = `${dir}.removing-${randomUUID()}`;
  try {
    await fs.rename(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await fs.rm(aside, { recursive: true, force: true });
}

async function emptyDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Bytes of the files under `dir` (a bare repository holds few: packs, a handful of loose objects, refs). */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else if (entry.isFile()) total += await fs.stat(full).then((s) => s.size, () => 0);
  }
  return total;
}
