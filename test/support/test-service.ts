// Starts the whole service in-process on a free port, with its own data dir and apps dir, on SQLite or on a
// scratch PostgreSQL database. Logs go to memory. Like a real start without NORN_API_TOKEN, the service generates
// its API token into the data dir; `token`, `authHeaders` and `api()` carry it for the tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startService, type RunningService } from '../../src/app.js';
import { apiTokenFile } from '../../src/config/api-token-file.js';
import { loadConfig } from '../../src/config/load-config.js';
import { memoryLogger } from './memory-logger.js';
import { createScratchDatabase } from './services.js';
import { NomadSimulator } from './nomad-simulator.js';

export const TEST_SECRET = 'test-webhook-secret';

export interface TestService {
  readonly url: string;
  readonly service: RunningService;
  readonly appsDir: string;
  readonly dataDir: string;
  readonly logLines: string[];
  /** The API token: NORN_API_TOKEN when the test set one, else the one the service generated. */
  readonly token: string;
  /** `authorization: Bearer <token>`, for fetch and WebSocket. */
  readonly authHeaders: Record<string, string>;
  /** fetch(`${url}${path}`) with the token (and a JSON content type when there is a body). */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** The Nomad API test double this service submits to. */
  readonly nomad: NomadSimulator;
  /** The cloudflared config file the forge step edits. */
  readonly cloudflaredConfig: string;
  writeSpec(name: string, spec: Record<string, unknown>): void;
  restart(): Promise<TestService>;
  close(): Promise<void>;
}

export async function startTestService(
  opts: { store?: 'sqlite' | 'postgres'; env?: Record<string, string>; specs?: Record<string, Record<string, unknown>>; nomad?: NomadSimulator } = {},
): Promise<TestService> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-svc-'));
  const appsDir = path.join(root, 'apps');
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(appsDir);
  const writeSpec = (name: string, spec: Record<string, unknown>) => {
    fs.mkdirSync(path.join(appsDir, name), { recursive: true });
    fs.writeFileSync(path.join(appsDir, name, 'infraspec.yaml'), YAML.stringify(spec));
  };
  for (const [name, spec] of Object.entries(opts.specs ?? {})) writeSpec(name, spec);
  const scratch = opts.store === 'postgres' ? await createScratchDatabase('norn_svc') : undefined;
  const nomad = opts.nomad ?? (await NomadSimulator.start());
  const cloudflaredConfig = path.join(root, 'cloudflared.yml');
  fs.writeFileSync(cloudflaredConfig, 'tunnel: test\ningress:\n  - service: http_status:404\n');
  const env = {
    NORN_PORT: '0',
    NORN_HOST: '127.0.0.1',
    NORN_APPS_DIR: appsDir,
    NORN_DATA_DIR: dataDir,
    NORN_WEBHOOK_SECRET: TEST_SECRET,
    NORN_POLL_INTERVAL_MS: '50',
    NORN_LOG_LEVEL: 'debug',
    NOMAD_ADDR: nomad.url,
    NORN_NOMAD_WAIT_SECONDS: '2',
    NORN_CLOUDFLARED_CONFIG: cloudflaredConfig,
    ...(scratch ? { NORN_DATABASE_URL: scratch.url } : {}),
    ...opts.env,
  };
  const start = async (): Promise<TestService> => {
    const { log, lines } = memoryLogger();
    const service = await startService(loadConfig(env, root), { log });
    const token = opts.env?.NORN_API_TOKEN || fs.readFileSync(apiTokenFile(dataDir), 'utf8').trim();
    const authHeaders = { authorization: `Bearer ${token}` };
    return {
      url: service.url,
      service,
      appsDir,
      dataDir,
      logLines: lines,
      token,
      authHeaders,
      api: (p, init = {}) =>
        fetch(`${service.url}${p}`, {
          ...init,
          headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...authHeaders, ...(init.headers as Record<string, string> | undefined) },
        }),
      nomad,
      cloudflaredConfig,
      writeSpec,
      async restart() {
        await service.close();
        return start();
      },
      async close() {
        await service.close();
        if (!opts.nomad) await nomad.close();
        await scratch?.drop();
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  };
  return start();
}

/** A minimal valid spec tracking `repoUrl`'s main branch with auto-deploy. */
export function specFor(name: string, repoUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    image: 'registry.example/app:1',
    repo: { url: repoUrl, branch: 'main', autoDeploy: true },
    processes: { web: { port: 8080, health: { path: '/health' } } },
    ...extra,
  };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
