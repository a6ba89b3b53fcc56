// The environment of one process's task: what Norn computes, then the spec's env, the process's env and the
// decrypted secrets, each layer overriding the one before. Keys come out sorted so the job is deterministic.
import type { AppSpec, Process } from '../apps/infraspec-schema.js';
import { ConfigError } from '../errors.js';

export interface ProcessEnvInput {
  spec: AppSpec;
  proc: Process;
  secrets: Readonly<Record<string, string>>;
  /** NORN_APP_POSTGRES_URL: the server as apps reach it; its database part is replaced by the app's. */
  appPostgresUrl?: string;
}

export interface ProcessEnv {
  env: Record<string, string>;
  /** Keys whose values are secret (from secrets.enc.yaml, or a DATABASE_URL carrying a password). */
  secretKeys: string[];
}

export function processEnv({ spec, proc, secrets, appPostgresUrl }: ProcessEnvInput): ProcessEnv {
  const computed: Record<string, string> = {};
  const secretKeys = new Set(Object.keys(secrets));
  // Apps conventionally read PORT; with a dynamic port the container still listens on this one (`To`).
  if (proc.port !== undefined) computed.PORT = String(proc.port);
  const database = spec.infrastructure?.postgres?.database;
  if (database && appPostgresUrl) {
    computed.DATABASE_URL = withDatabase(appPostgresUrl, database);
    secretKeys.add('DATABASE_URL');
  }
  const merged = { ...computed, ...spec.env, ...proc.env, ...secrets };
  const env = Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]!]));
  return { env, secretKeys: [...secretKeys].filter((k) => k in env).sort() };
}

/** The server URL with its path set to `database`; the URL itself never appears in the error (it has a password). */
export function withDatabase(serverUrl: string, database: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new ConfigError('NORN_APP_POSTGRES_URL', 'is not a URL like postgres://user:password@host:5432/postgres');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('NORN_APP_POSTGRES_URL', `must be a postgres:// URL, not ${url.protocol}//`);
  }
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
