// Runs a receiver as a separate process (`norn serve` through tsx, or the build in dist/), for tests that need
// several receivers or a kill -9 in the middle of work, and for benches.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiTokenFile } from '../../src/config/api-token-file.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ChildReceiver {
  readonly url: string;
  readonly process: ChildProcess;
  readonly output: string[];
  /** `authorization: Bearer <token>`: NORN_API_TOKEN when given, else the token the receiver generated. */
  readonly authHeaders: Record<string, string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** `built`: run dist/src/main.js, as the published image does, rather than the TypeScript source through tsx. */
export async function startChildReceiver(env: Record<string, string>, opts: { built?: boolean } = {}): Promise<ChildReceiver> {
  const port = await freePort();
  const built = path.join(repoRoot, 'dist/src/main.js');
  if (opts.built && !fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  const entry = opts.built ? [built] : ['--import', 'tsx', path.join(repoRoot, 'src/main.ts')];
  const child = spawn(process.execPath, [...entry, 'serve'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NORN_HOST: '127.0.0.1', NORN_LOG_LEVEL: 'warn', ...env, NORN_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (d) => output.push(String(d)));
  child.stderr.on('data', (d) => output.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`receiver exited with ${child.exitCode}: ${output.join('').slice(-2000)}`);
    const ok = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`receiver did not become healthy: ${output.join('').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Without NORN_API_TOKEN the receiver generated its token into the data dir before it answered health.
  const token = env.NORN_API_TOKEN ?? fs.readFileSync(apiTokenFile(path.resolve(repoRoot, env.NORN_DATA_DIR ?? './data')), 'utf8').trim();
  return {
    url,
    process: child,
    output,
    authHeaders: { authorization: `Bearer ${token}` },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}
