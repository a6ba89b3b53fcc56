// A bare repository per remote under the cache dir, from which each deploy's work tree is written: the first deploy
// of a repository fetches its commit whole, later ones only the objects their commit changed.
//
// One lock file per repository (`<key>.lock`, see file-lock.ts) serialises fetch + checkout, across the deploys of
// several apps from one repository and across receiver processes; a lock left by a crash is broken. The cache is
// bounded: after each use, the least recently used repositories are removed (never one that is locked) until the
// total size is within `maxBytes`. A repository that cannot serve a commit (corrupt pack, half-written by a crash)
// is removed and fetched again, so a broken cache costs one full fetch, never a failed deploy.
//
// Each repository also keeps at most one checked-out tree (`norn-tree` inside the repository's dir, so eviction
// counts and removes it with its repository, and `entries` never sees it as one of its own) and the git index that
// describes it (`norn-tree.index`, outside the tree: never in a build context). A checkout that finds the tree
// there updates it to the wanted commit, writing only the files that differ, and renames it into the deploy's work
// dir, recording a lease (`norn-tree.lease`: which work dir has it, at which commit). The deploy's cleanup gives it
// back (`giveBack`, a rename again); until then a checkout of the same repository writes a full tree, as it does
// when there is no tree yet (that one keeps its index and becomes the tree when given back). A lease whose work dir
// is gone is dead (the deploy's process died; startup removed its work dir) and is dropped. A tree that fails to
// update is removed and the checkout writes a full one. Renames need the work root and the cache on one file
// system; when they are not (EXDEV), no tree is kept and every checkout writes a full one.
import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FileLock, LockTimeoutError } from '../../files/file-lock.js';
import { pathExists } from '../../files/path-exists.js';
import type { GitClient } from './git-client.js';

export interface RepoCacheConfig {
  readonly dir: string;
  /** Total size the cache is trimmed back to after each use. */
  readonly maxBytes: number;
  /** Longest wait for another deploy's use of the same repository; also how old a lock must be to be broken. */
  readonly lockTimeoutMs: number;
}

/** How the repository served a checkout, for the clone step's report. */
export type CacheOutcome = 'reused' | 'created' | 'rebuilt';

/**
 * How the work tree was written: `updated` from the repository's kept tree (`changed` paths written or removed),
 * or whole (`full`), either because there was none yet or because another deploy has it (`leased`).
 */
export type TreeOutcome = { readonly kind: 'updated'; readonly changed: number } | { readonly kind: 'full' } | { readonly kind: 'leased' };

export interface CheckoutResult {
  readonly cache: CacheOutcome;
  readonly tree: TreeOutcome;
}

const LAST_USED = 'norn-last-used';
const TREE = 'norn-tree';

/** Where a repository keeps its tree, the tree's index, the lease, and the tree's size when it is at rest. */
function treePaths(repoDir: string) {
  return {
    tree: path.join(repoDir, TREE),
    index: path.join(repoDir, `${TREE}.index`),
    lease: path.join(repoDir, `${TREE}.lease`),
    bytes: path.join(repoDir, `${TREE}.bytes`),
  };
}

interface Lease {
  readonly workDir: string;
  readonly sha: string;
}

type Rename = (from: string, to: string) => Promise<void>;

export class RepoCache {
  private readonly lock: FileLock;
  /** Eviction never waits: a repository someone holds is in use and stays. */
  private readonly tryLock: FileLock;

  constructor(
    private readonly config: RepoCacheConfig,
    private readonly deps: {
      git: Pick<GitClient, 'fetchIntoCache' | 'checkoutFromCache' | 'updateWorkTree' | 'treeBytes' | 'refreshIndex'>;
      onEvictError?: (err: unknown, entry: string) => void;
      /** A kept tree that could not be updated or given back (it is dropped; the deploy goes on). */
      onTreeError?: (err: unknown, entry: string) => void;
      /** fs.rename; tests inject a failing one to stand for a cache on another file system. */
      rename?: Rename;
    },
  ) {
    // A holder may keep the lock for a whole clone step; only a lock older than that is a dead holder's.
    this.lock = new FileLock({ timeoutMs: config.lockTimeoutMs, staleMs: config.lockTimeoutMs * 2, retryMs: 200 });
    this.tryLock = new FileLock({ timeoutMs: 0, staleMs: config.lockTimeoutMs * 2 });
  }

  /** Fetches `sha` from `url` through the cache and writes its files into the empty or absent `workDir`. */
  async checkout(url: string, sha: string, workDir: string, opts: { signal?: AbortSignal } = {}): Promise<CheckoutResult> {
    await fs.mkdir(this.config.dir, { recursive: true });
    const key = cacheKey(url);
    const repoDir = path.join(this.config.dir, key);
    const outcome = await this.lock.withLock(
      `${repoDir}.lock`,
      async () => {
        const existed = await pathExists(path.join(repoDir, 'HEAD'));
        const attempt = async () => {
          await this.deps.git.fetchIntoCache(url, sha, repoDir, opts);
          return this.writeTree(key, sha, path.resolve(workDir), opts);
        };
        let cache: CacheOutcome = existed ? 'reused' : 'created';
        let tree: TreeOutcome;
        try {
          tree = await attempt();
        } catch (err) {
          // A fresh repository that fails is the remote's doing (or the deadline's): nothing to heal.
          if (!existed || opts.signal?.aborted) throw err;
          await removeAside(repoDir);
          await emptyDir(workDir);
          tree = await attempt();
          cache = 'rebuilt';
        }
        const now = new Date();
        await fs.writeFile(path.join(repoDir, LAST_USED), '');
        await fs.utimes(path.join(repoDir, LAST_USED), now, now);
        // One repository larger than the whole budget is not kept: the next deploy fetches it whole again.
        if ((await repoBytes(repoDir)) > this.config.maxBytes) await removeAside(repoDir);
        return { cache, tree };
      },
      opts.signal,
    );
    await this.evict(key);
    return outcome;
  }

  /**
   * The end of a deploy's use of `workDir`: when it holds the repository's tree (its lease), the tree goes back to
   * the cache for the next checkout to update; otherwise, or when that fails, `workDir` is removed. True when kept.
   * A tree that cannot be kept is reported to `onTreeError`, never thrown: it only costs the next deploy a full checkout.
   */
  async giveBack(url: string, workDir: string): Promise<boolean> {
    const key = cacheKey(url);
    const repoDir = path.join(this.config.dir, key);
    const slot = treePaths(repoDir);
    const dir = path.resolve(workDir);
    let kept = false;
    try {
      kept = await this.lock.withLock(`${repoDir}.lock`, async () => {
        const lease = await readLease(slot.lease);
        if (lease?.workDir !== dir) return false;
        await fs.rm(slot.lease, { force: true });
        // A repository removed meanwhile (evicted, rebuilt) took the index with it; a tree there is another's.
        if (!(await pathExists(path.join(repoDir, 'HEAD'))) || (await pathExists(slot.tree))) return false;
        try {
          await this.rename(dir, slot.tree);
        } catch (err) {
          // EXDEV: the cache is on another file system than the work root, so no tree is kept there.
          await fs.rm(slot.index, { force: true });
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          return false;
        }
        await fs.writeFile(slot.bytes, String(await this.deps.git.treeBytes(repoDir, lease.sha).catch(() => 0)));
        // Now, after the deploy, rather than in the next deploy's clone step; a refresh that fails only costs that
        // clone step the reads it would have saved.
        await this.deps.git.refreshIndex(repoDir, slot.tree, slot.index).catch(() => undefined);
        // The tree alone may not fit beside its repository: then it is not kept (the repository is).
        if ((await repoBytes(repoDir)) > this.config.maxBytes) {
          await this.dropTree(repoDir);
          return false;
        }
        return true;
      });
    } catch (err) {
      this.deps.onTreeError?.(err, key);
    }
    if (!kept) await fs.rm(dir, { recursive: true, force: true });
    else await this.evict(key);
    return kept;
  }

  /** Writes `sha` into `workDir` from the repository's kept tree when it is there, else whole. Under the lock. */
  private async writeTree(key: string, sha: string, workDir: string, opts: { signal?: AbortSignal }): Promise<TreeOutcome> {
    const repoDir = path.join(this.config.dir, key);
    const slot = treePaths(repoDir);
    const lease = await readLease(slot.lease);
    if (lease && (await pathExists(lease.workDir))) {
      // Another deploy of this repository has the tree: a full tree with a private index, as without one.
      await this.deps.git.checkoutFromCache(repoDir, sha, workDir, opts);
      return { kind: 'leased' };
    }
    // A dead lease: its work dir went (and the tree with it) when its receiver died.
    if (lease) await fs.rm(slot.lease, { force: true });
    if (await pathExists(slot.tree)) {
      try {
        const changed = await this.deps.git.updateWorkTree(repoDir, sha, slot.tree, slot.index, opts);
        // git never lists nor cleans a `.git` (no commit can hold one): one a deploy left would reach the build.
        await removeGitDirs(slot.tree);
        await fs.rm(workDir, { recursive: true, force: true });
        await fs.mkdir(path.dirname(workDir), { recursive: true });
        await this.rename(slot.tree, workDir);
        await writeLease(slot.lease, { workDir, sha });
        return { kind: 'updated', changed };
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        this.deps.onTreeError?.(err, key);
        await this.dropTree(repoDir);
        await emptyDir(workDir);
      }
    }
    await fs.rm(slot.index, { force: true });
    await this.deps.git.checkoutFromCache(repoDir, sha, workDir, { ...opts, keepIndex: slot.index });
    await writeLease(slot.lease, { workDir, sha });
    return { kind: 'full' };
  }

  /** Removes the kept tree and what describes it; the repository stays. */
  private async dropTree(repoDir: string): Promise<void> {
    const slot = treePaths(repoDir);
    await fs.rm(slot.lease, { force: true });
    await fs.rm(slot.index, { force: true });
    await fs.rm(slot.bytes, { force: true });
    // Aside under the cache dir's own name pattern, so `entries` finishes a removal a crash interrupted.
    const aside = `${repoDir}.removing-${randomUUID()}`;
    try {
      await fs.rename(slot.tree, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fs.rm(aside, { recursive: true, force: true });
  }

  private rename(from: string, to: string): Promise<void> {
    return (this.deps.rename ?? fs.rename)(from, to);
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
      found.push({ key: dirent.name, bytes: await repoBytes(full), lastUsed });
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

async function readLease(file: string): Promise<Lease | undefined> {
  try {
    const lease = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Lease>;
    if (typeof lease.workDir === 'string' && typeof lease.sha === 'string') return { workDir: lease.workDir, sha: lease.sha };
  } catch {
    // absent, or half-written by a crash: no lease
  }
  return undefined;
}

async function writeLease(file: string, lease: Lease): Promise<void> {
  await fs.writeFile(file, JSON.stringify(lease));
}

/** Removes every `.git` file or directory under `dir`, at any depth. */
async function removeGitDirs(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.name === '.git') await fs.rm(path.join(entry.parentPath, entry.name), { recursive: true, force: true });
  }
}

/**
 * Bytes of a cached repository: its files (a bare repository holds few: packs, a handful of loose objects, refs)
 * plus its kept tree, counted as the size of the commit's files recorded when the tree came back (walking 20,000
 * files for their sizes after every deploy would cost seconds).
 */
async function repoBytes(repoDir: string): Promise<number> {
  const slot = treePaths(repoDir);
  const tree = (await pathExists(slot.tree)) ? Number(await fs.readFile(slot.bytes, 'utf8').catch(() => '0')) || 0 : 0;
  return (await sizeOf(repoDir, TREE)) + tree;
}

/** Bytes of the files under `dir`, leaving out its entry `skip`. */
async function sizeOf(dir: string, skip?: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name === skip) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else if (entry.isFile()) total += await fs.stat(full).then((s) => s.size, () => 0);
  }
  return total;
}
