// Serialises read-modify-write cycles on a file: callers in this process queue on a promise chain per lock path
// (no polling, first come first served), and processes exclude each other with a lock file created with O_EXCL.
// The lock file names its holder (host, pid, when the process started), so a lock left by a crash is broken
// at once when that process is gone from this host, and by age (`staleMs`) otherwise. Breaking renames the
// file aside first, so two processes that both judged it stale cannot both delete a fresh lock.
import { randomUUID } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockConfig {
  /** Longest wait for the lock. */
  readonly timeoutMs: number;
  /** A lock file older than this was left by a holder that died or hung, and is broken. */
  readonly staleMs: number;
  /** Pause between attempts (jittered). */
  readonly retryMs?: number;
}

export interface FileLockDeps {
  readonly now?: () => number;
}

interface Holder {
  readonly host: string;
  readonly pid: number;
  /** When the holding process started (ms): tells a previous incarnation with a reused pid from this one. */
  readonly started: number;
  readonly token: string;
  readonly at: string;
}

/** The lock stayed held by someone else for the whole timeout. */
export class LockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: string,
  ) {
    super(`${lockPath} is held by ${holder}`);
    this.name = 'LockTimeoutError';
  }
}

export class FileLock {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private readonly started: number;

  constructor(
    private readonly config: FileLockConfig,
    deps: FileLockDeps = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.started = Math.round(Date.now() - process.uptime() * 1000);
  }

  /** Runs `fn` while holding `lockPath`; the lock is released however `fn` ends. */
  withLock<T>(lockPath: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.queues.get(lockPath) ?? Promise.resolve();
    const run = previous.then(async () => {
      const token = await this.acquire(lockPath, signal);
      try {
        return await fn();
      } finally {
        await this.release(lockPath, token);
      }
    });
    const tail = run.catch(() => undefined);
    this.queues.set(lockPath, tail);
    void tail.then(() => this.queues.get(lockPath) === tail && this.queues.delete(lockPath));
    return run;
  }

  private async acquire(lockPath: string, signal?: AbortSignal): Promise<string> {
    const holder: Holder = { host: hostname(), pid: process.pid, started: this.started, token: randomUUID(), at: new Date(this.now()).toISOString() };
    const deadline = this.now() + this.config.timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      if (await createExclusive(lockPath, JSON.stringify(holder))) return holder.token;
      const seen = await inspect(lockPath);
      if (!seen) continue;
      if (this.isStale(seen.holder, seen.mtimeMs)) {
        await breakLock(lockPath, seen.content);
        continue;
      }
      if (this.now() >= deadline) throw new LockTimeoutError(lockPath, describe(seen.holder));
      const pause = (this.config.retryMs ?? 25) * (0.5 + Math.random());
      await sleep(pause, undefined, { signal });
    }
  }

  private async release(lockPath: string, token: string): Promise<void> {
    const seen = await inspect(lockPath);
    // Not ours any more when it was broken as stale while held; removing it then would free someone else's.
    if (seen?.holder?.token === token) await unlink(lockPath).catch(() => undefined);
  }

  private isStale(holder: Holder | undefined, mtimeMs: number): boolean {
    if (this.now() - mtimeMs > this.config.staleMs) return true;
    if (!holder || holder.host !== hostname()) return false;
    if (holder.pid === process.pid) return Math.abs(holder.started - this.started) > 2000;
    return !isAlive(holder.pid);
  }
}

/**
 * Creates the lock file with its content in one step: the content goes to a file of our own first, which is then
 * hard-linked to the lock's name (refused when the name exists). A process killed half way therefore never leaves
 * an empty lock file behind, which would name no holder and block every waiter until it is old enough to break.
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const own = `${path}.${randomUUID()}.new`;
  await writeFile(own, content, { flag: 'wx' });
  try {
    await link(own, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(own).catch(() => undefined);
  }
}

async function inspect(path: string): Promise<{ content: string; holder?: Holder; mtimeMs: number } | undefined> {
  try {
    const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { content, holder: parseHolder(content), mtimeMs: info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function breakLock(path: string, judged: string): Promise<void> {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // Someone replaced the stale lock between our look and the rename: put their fresh one back.
  if ((await readFile(aside, 'utf8').catch(() => '')) !== judged) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function parseHolder(content: string): Holder | undefined {
  try {
    const value = JSON.parse(content) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.token === 'string' ? (value as Holder) : undefined;
  } catch {
    return undefined; // not a lock file this code wrote (they are created whole): only its age can break it
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(holder: Holder | undefined): string {
  return holder ? `pid ${holder.pid} on ${holder.host} since ${holder.at}` : 'an unknown holder';
}
