// Helpers that point tests at the services `test/support/start-services.sh` starts, and fail loudly (never skip)
// when one is not there, saying what to run.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

const START_HINT = 'run `bash test/support/start-services.sh`';

export function testDatabaseUrl(): string {
  return process.env.NORN_TEST_DATABASE_URL ?? 'postgres://norn:norn@127.0.0.1:5432/norn_test';
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database URL>';
  }
}

export async function requirePostgres(url = testDatabaseUrl()): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`PostgreSQL not reachable at ${redact(url)}: ${START_HINT}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function dockerHost(): string {
  return process.env.DOCKER_HOST ?? 'unix:///run/norn-docker.sock';
}

/** GET a path and resolve with the status code; rejects on connection errors. */
function httpStatus(options: http.RequestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ method: 'GET', timeout: 5000, ...options }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

export async function requireDocker(host = dockerHost()): Promise<void> {
  const target = host.startsWith('unix://')
    ? { socketPath: host.slice('unix://'.length) }
    : { host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(host.replace(/^tcp:/, 'http:')).port) };
  const status = await httpStatus({ ...target, path: '/_ping' }).catch((err: unknown) => {
    throw new Error(`Docker engine not reachable at ${host}: ${START_HINT}`, { cause: err });
  });
  if (status !== 200) throw new Error(`Docker engine at ${host} answered ${status} to /_ping: ${START_HINT}`);
}

/** host:port of the test registry (as used in image tags). */
export function registryUrl(): string {
  return process.env.NORN_TEST_REGISTRY ?? '127.0.0.1:5000';
}

/** host:port of the test registry that demands basic auth (see `authRegistryCredentials`). */
export function authRegistryUrl(): string {
  return process.env.NORN_TEST_AUTH_REGISTRY ?? '127.0.0.1:5001';
}

/** The test-only account start-services.sh writes into that registry's htpasswd file. */
export function authRegistryCredentials(): { username: string; password: string } {
  return { username: 'norn', password: 'norn' };
}

export async function requireRegistry(registry = registryUrl(), expectedStatus = 200): Promise<void> {
  const [hostname, port] = registry.split(':');
  const status = await httpStatus({ host: hostname, port: Number(port ?? 80), path: '/v2/' }).catch((err: unknown) => {
    throw new Error(`Registry not reachable at ${registry}: ${START_HINT}`, { cause: err });
  });
  if (status !== expectedStatus) throw new Error(`Registry at ${registry} answered ${status} to /v2/ (expected ${expectedStatus}): ${START_HINT}`);
}

/** The registry with auth answers an anonymous /v2/ with 401. */
export function requireAuthRegistry(registry = authRegistryUrl()): Promise<void> {
  return requireRegistry(registry, 401);
}

export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates a uniquely named, empty database (the test role is a superuser) and a way to drop it. */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const base = testDatabaseUrl();
  await requirePostgres(base);
  const safePrefix = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
  const name = `${safePrefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
