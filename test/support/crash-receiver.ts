// Helpers for crash tests: a receiver killed before it is even up, one restarted when its port was taken, a
// pool of commits made in one go, and a seeded random source so a failing run can be repeated.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startChildReceiver, type ChildReceiver } from './child-receiver.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts `norn serve` (as startChildReceiver does) and SIGKILLs it `afterMs` later, whatever it is doing then:
 * loading, migrating, reaping or already serving. Resolves once it is dead.
 */
export async function killDuringStartup(env: Record<string, string>, afterMs: number): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/main.ts'), 'serve'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NORN_HOST: '127.0.0.1', NORN_LOG_LEVEL: 'warn', ...env, NORN_PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  await exited;
}

/**
 * startChildReceiver, tried again when the port it picked was taken before the child could listen: the picked
 * port comes from the ephemeral range, which a test streaming requests uses for its own connections.
 */
export async function startReceiverRetrying(env: Record<string, string>, tries = 3): Promise<ChildReceiver> {
  for (let i = 1; ; i++) {
    try {
      return await startChildReceiver(env);
    } catch (err) {
      if (i >= tries || !String((err as Error).message).includes('EADDRINUSE')) throw err;
    }
  }
}

/**
 * Adds `n` commits, each changing one file, on a `pool` branch of a bare repository in one `git fast-import`
 * (a commit per push through a working clone costs several git processes); returns their SHAs, oldest first.
 */
export function commitPool(bareDir: string, n: number): string[] {
  const blocks: string[] = [];
  for (let i = 1; i <= n; i++) {
    const message = `pool commit ${i}\n`;
    const content = `${i}\n`;
    blocks.push(
      `commit refs/heads/pool\nmark :${i}\ncommitter Test <t@example.com> ${1_700_000_000 + i} +0000\n` +
        `data ${message.length}\n${message}${i > 1 ? `from :${i - 1}\n` : ''}M 644 inline n.txt\ndata ${content.length}\n${content}\n`,
    );
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: bareDir, input: blocks.join('') });
  return execFileSync('git', ['rev-list', '--reverse', 'refs/heads/pool'], { cwd: bareDir, encoding: 'utf8' }).trim().split('\n');
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
