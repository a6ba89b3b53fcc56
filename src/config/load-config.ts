// Turns NORN_* variables (and the optional NORN_CONFIG YAML file) into a typed Config. The only reader of
// process.env is main.ts, which passes it in here; errors name the variable and never echo a secret's value.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { SETTINGS } from './settings.js';
import { statusConfigFromEnv, type StatusConfig } from './status-settings.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly appsDir: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly webhookSecret?: string;
  readonly apiToken?: string;
  readonly publicUrl: string;
  readonly allowedOrigins: readonly string[];
  readonly gitToken?: string;
  readonly gitSshKey?: string;
  readonly gitKnownHosts: string;
  readonly gitTimeoutMs: number;
  readonly gitAllowHttpCredentials: boolean;
  /** The clone step's repository cache; undefined when turned off (`NORN_GIT_CACHE_MAX_MB=0`). */
  readonly gitCache?: { readonly dir: string; readonly maxBytes: number };
  readonly maxConcurrentDeploys: number;
  readonly maxBodyBytes: number;
  readonly webhookBufferBytes: number;
  readonly webhookBodyTimeoutMs: number;
  /** NORN_REQUEST_TIMEOUT_SECONDS, in ms: every other request must arrive whole within it (an upload: keep moving). */
  readonly requestTimeoutMs: number;
  readonly rejectedPerMinute: number;
  /** 0: deliveries are kept forever. */
  readonly ledgerRetentionDays: number;
  readonly stepTimeoutMs: number;
  readonly cloneTimeoutMs: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly logLevel: string;
  readonly dockerHost?: string;
  readonly registryUrl?: string;
  readonly registryAuth?: { readonly username: string; readonly password: string };
  readonly builder: 'buildkit' | 'classic';
  readonly migrateNetwork: string;
  readonly buildNetwork: string;
  readonly testNetwork: string;
  readonly testTimeoutMs: number;
  readonly metricsPublic: boolean;
  /** NORN_RUNTIME; undefined lets runtime/select-runtime.ts choose. */
  readonly runtime?: 'docker' | 'nomad';
  readonly docker: { readonly network: 'bridge' | 'host'; readonly minHealthyMs: number };
  readonly nomad: {
    /** NOMAD_ADDR came from the environment or the config file (not the default): it selects the Nomad runtime. */
    readonly isAddressSet: boolean;
    readonly address: string;
    readonly token?: string;
    readonly namespace?: string;
    readonly region?: string;
    readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly insecure?: boolean };
    readonly datacenters: readonly string[];
    readonly healthyDeadlineMs: number;
    readonly blockingWaitMs: number;
  };
  readonly ageKeys: { readonly SOPS_AGE_KEY_FILE?: string; readonly SOPS_AGE_KEY?: string };
  readonly cloudflared: { readonly configPath: string; readonly reloadCommand?: string; readonly reloadTimeoutMs: number };
  readonly consul: { readonly address?: string; readonly token?: string };
  readonly postgresUrl?: string;
  readonly appPostgresUrl?: string;
  readonly snapshotsDir: string;
  /** Commit statuses: which forges get them, with what token, and how the outbox retries. */
  readonly statuses: StatusConfig;
  /** NORN_SNAPSHOT_IMPORT_MAX_MB in bytes. */
  readonly snapshotImportMaxBytes: number;
  /** Everything else NORN_* (and SOPS_*, NOMAD_*, DOCKER_HOST) for integrations that read their own settings. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Env = Readonly<Record<string, string | undefined>>;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalText = z.string().trim().min(1).optional();

const schema = z.object({
  NORN_PORT: int(0, 65535),
  NORN_HOST: z.string().min(1),
  NORN_APPS_DIR: z.string().min(1),
  NORN_DATA_DIR: z.string().min(1),
  NORN_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  NORN_WEBHOOK_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  NORN_API_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  NORN_PUBLIC_URL: z.url(),
  NORN_ALLOWED_ORIGINS: z.string(),
  NORN_GIT_TOKEN: optionalText,
  NORN_GIT_SSH_KEY: optionalText,
  NORN_GIT_KNOWN_HOSTS: z.string().min(1),
  NORN_GIT_TIMEOUT_SECONDS: int(1, 24 * 3600),
  NORN_GIT_ALLOW_HTTP_CREDENTIALS: z.enum(['true', 'false']),
  NORN_GIT_CACHE_DIR: optionalText,
  NORN_GIT_CACHE_MAX_MB: int(0, 1024 * 1024),
  NORN_MAX_CONCURRENT_DEPLOYS: int(1, 256),
  NORN_MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024),
  NORN_WEBHOOK_BUFFER_BYTES: int(1024, 16 * 1024 * 1024 * 1024),
  NORN_WEBHOOK_BODY_TIMEOUT_SECONDS: int(1, 600),
  NORN_REQUEST_TIMEOUT_SECONDS: int(1, 3600),
  NORN_REJECTED_PER_MINUTE: int(1, 10_000_000),
  NORN_LEDGER_RETENTION_DAYS: int(0, 36_500),
  NORN_STEP_TIMEOUT_SECONDS: int(1, 24 * 3600),
  NORN_CLONE_TIMEOUT_SECONDS: int(1, 24 * 3600),
  NORN_LEASE_SECONDS: int(2, 3600),
  NORN_POLL_INTERVAL_MS: int(10, 60_000),
  NORN_PROBE_TIMEOUT_MS: int(100, 60_000),
  DOCKER_HOST: optionalText,
  NORN_REGISTRY_URL: z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i, 'must be host[:port][/path] without a scheme').optional(),
  NORN_REGISTRY_USERNAME: optionalText,
  NORN_REGISTRY_PASSWORD: optionalText,
  NORN_BUILDER: z.enum(['buildkit', 'classic']),
  NORN_BUILD_NETWORK: z.enum(['none', 'default', 'host', 'bridge']),
  NORN_TEST_NETWORK: z.enum(['none', 'default', 'host', 'bridge']),
  NORN_TEST_TIMEOUT_SECONDS: int(1, 24 * 3600),
  NORN_MIGRATE_NETWORK: z.enum(['none', 'default', 'host', 'bridge']),
  NORN_METRICS_PUBLIC: z.enum(['true', 'false']),
  NORN_RUNTIME: z.enum(['docker', 'nomad'], 'must be docker or nomad').optional(),
  NORN_DOCKER_NETWORK: z.enum(['bridge', 'host'], 'must be bridge or host'),
  NORN_DOCKER_MIN_HEALTHY_SECONDS: int(0, 3600),
  NOMAD_ADDR: z.url(),
  NOMAD_TOKEN: optionalText,
  NOMAD_NAMESPACE: optionalText,
  NOMAD_REGION: optionalText,
  NOMAD_CACERT: optionalText,
  NOMAD_CLIENT_CERT: optionalText,
  NOMAD_CLIENT_KEY: optionalText,
  NOMAD_SKIP_VERIFY: z.enum(['true', 'false', '1', '0']),
  NORN_NOMAD_DATACENTERS: z.string().min(1),
  NORN_HEALTHY_DEADLINE_SECONDS: int(1, 24 * 3600),
  NORN_NOMAD_WAIT_SECONDS: int(1, 300),
  SOPS_AGE_KEY_FILE: optionalText,
  SOPS_AGE_KEY: optionalText,
  NORN_CLOUDFLARED_CONFIG: z.string().min(1),
  NORN_CLOUDFLARED_RESTART: optionalText,
  NORN_CLOUDFLARED_RESTART_TIMEOUT_SECONDS: int(1, 3600),
  CONSUL_HTTP_ADDR: optionalText,
  CONSUL_HTTP_TOKEN: optionalText,
  NORN_POSTGRES_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  NORN_APP_POSTGRES_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  NORN_SNAPSHOTS_DIR: optionalText,
  NORN_SNAPSHOT_IMPORT_MAX_MB: int(1, 1024 * 1024),
  NORN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

/** Names Norn v2 reads, accepted as aliases; the standard name wins when both are set. */
const ALIASES: Readonly<Record<string, string>> = { NOMAD_ADDR: 'NORN_NOMAD_ADDR', CONSUL_HTTP_ADDR: 'NORN_CONSUL_ADDR' };

export function loadConfig(processEnv: Env, cwd = process.cwd()): Config {
  const fileValues = readConfigFile(processEnv.NORN_CONFIG, cwd);
  const merged: Record<string, string | undefined> = {};
  const source: Record<string, string> = {};
  /** Settings the operator gave (environment, config file or an alias), as against defaults. */
  const isGiven = new Set<string>();
  for (const s of SETTINGS) {
    const alias = ALIASES[s.name];
    const given = emptyToUndefined(processEnv[s.name]) ?? fileValues[s.name];
    const aliased = alias ? (emptyToUndefined(processEnv[alias]) ?? fileValues[alias]) : undefined;
    if (given === undefined && aliased !== undefined) source[s.name] = alias!;
    if (given !== undefined || aliased !== undefined) isGiven.add(s.name);
    merged[s.name] = given ?? aliased ?? s.default;
  }
  // Norn's snapshot step runs pg_dump with the ambient libpq environment; without NORN_POSTGRES_URL, so does this one.
  if (merged.NORN_POSTGRES_URL === undefined) {
    merged.NORN_POSTGRES_URL = adminUrlFromLibpqEnv(processEnv);
    if (merged.NORN_POSTGRES_URL !== undefined) source.NORN_POSTGRES_URL = 'PGHOST/PGUSER/... (libpq environment)';
  }
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'config');
    throw new ConfigError(source[name] ?? name, issue.message);
  }
  const v = parsed.data;
  if (v.NORN_WEBHOOK_BUFFER_BYTES < v.NORN_MAX_BODY_BYTES) {
    throw new ConfigError('NORN_WEBHOOK_BUFFER_BYTES', `must be at least NORN_MAX_BODY_BYTES (${v.NORN_MAX_BODY_BYTES}), or no body of the largest size could ever be read`);
  }
  if (v.NORN_REQUEST_TIMEOUT_SECONDS < v.NORN_WEBHOOK_BODY_TIMEOUT_SECONDS) {
    throw new ConfigError('NORN_REQUEST_TIMEOUT_SECONDS', `must be at least NORN_WEBHOOK_BODY_TIMEOUT_SECONDS (${v.NORN_WEBHOOK_BODY_TIMEOUT_SECONDS}), or a webhook body would be cut off before its own limit`);
  }
  const env = { ...fileValues, ...processEnv };
  const resolve = (p: string) => path.resolve(cwd, p.replace(/^~(?=$|\/)/, os.homedir()));
  return {
    port: v.NORN_PORT,
    host: v.NORN_HOST,
    appsDir: resolve(v.NORN_APPS_DIR),
    dataDir: resolve(v.NORN_DATA_DIR),
    databaseUrl: v.NORN_DATABASE_URL,
    webhookSecret: v.NORN_WEBHOOK_SECRET,
    apiToken: v.NORN_API_TOKEN,
    publicUrl: v.NORN_PUBLIC_URL.replace(/\/+$/, ''),
    allowedOrigins: v.NORN_ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    gitToken: v.NORN_GIT_TOKEN,
    gitSshKey: v.NORN_GIT_SSH_KEY ? resolve(v.NORN_GIT_SSH_KEY) : undefined,
    gitKnownHosts: resolve(v.NORN_GIT_KNOWN_HOSTS),
    gitTimeoutMs: v.NORN_GIT_TIMEOUT_SECONDS * 1000,
    gitAllowHttpCredentials: v.NORN_GIT_ALLOW_HTTP_CREDENTIALS === 'true',
    gitCache:
      v.NORN_GIT_CACHE_MAX_MB === 0
        ? undefined
        : { dir: v.NORN_GIT_CACHE_DIR ? resolve(v.NORN_GIT_CACHE_DIR) : path.join(resolve(v.NORN_DATA_DIR), 'git-cache'), maxBytes: v.NORN_GIT_CACHE_MAX_MB * 1024 * 1024 },
    maxConcurrentDeploys: v.NORN_MAX_CONCURRENT_DEPLOYS,
    maxBodyBytes: v.NORN_MAX_BODY_BYTES,
    webhookBufferBytes: v.NORN_WEBHOOK_BUFFER_BYTES,
    webhookBodyTimeoutMs: v.NORN_WEBHOOK_BODY_TIMEOUT_SECONDS * 1000,
    requestTimeoutMs: v.NORN_REQUEST_TIMEOUT_SECONDS * 1000,
    rejectedPerMinute: v.NORN_REJECTED_PER_MINUTE,
    ledgerRetentionDays: v.NORN_LEDGER_RETENTION_DAYS,
    stepTimeoutMs: v.NORN_STEP_TIMEOUT_SECONDS * 1000,
    cloneTimeoutMs: v.NORN_CLONE_TIMEOUT_SECONDS * 1000,
    leaseMs: v.NORN_LEASE_SECONDS * 1000,
    pollIntervalMs: v.NORN_POLL_INTERVAL_MS,
    probeTimeoutMs: v.NORN_PROBE_TIMEOUT_MS,
    logLevel: v.NORN_LOG_LEVEL,
    dockerHost: v.DOCKER_HOST,
    registryUrl: v.NORN_REGISTRY_URL,
    registryAuth: v.NORN_REGISTRY_USERNAME ? { username: v.NORN_REGISTRY_USERNAME, password: v.NORN_REGISTRY_PASSWORD ?? '' } : undefined,
    builder: v.NORN_BUILDER,
    buildNetwork: v.NORN_BUILD_NETWORK,
    testNetwork: v.NORN_TEST_NETWORK,
    testTimeoutMs: v.NORN_TEST_TIMEOUT_SECONDS * 1000,
    migrateNetwork: v.NORN_MIGRATE_NETWORK,
    metricsPublic: v.NORN_METRICS_PUBLIC === 'true',
    runtime: v.NORN_RUNTIME,
    docker: { network: v.NORN_DOCKER_NETWORK, minHealthyMs: v.NORN_DOCKER_MIN_HEALTHY_SECONDS * 1000 },
    nomad: {
      isAddressSet: isGiven.has('NOMAD_ADDR'),
      address: v.NOMAD_ADDR.replace(/\/+$/, ''),
      token: v.NOMAD_TOKEN,
      namespace: v.NOMAD_NAMESPACE,
      region: v.NOMAD_REGION,
      tls: nomadTls(v, resolve),
      datacenters: v.NORN_NOMAD_DATACENTERS.split(',').map((d) => d.trim()).filter(Boolean),
      healthyDeadlineMs: v.NORN_HEALTHY_DEADLINE_SECONDS * 1000,
      blockingWaitMs: v.NORN_NOMAD_WAIT_SECONDS * 1000,
    },
    ageKeys: { SOPS_AGE_KEY_FILE: v.SOPS_AGE_KEY_FILE ? resolve(v.SOPS_AGE_KEY_FILE) : undefined, SOPS_AGE_KEY: v.SOPS_AGE_KEY },
    cloudflared: {
      configPath: resolve(v.NORN_CLOUDFLARED_CONFIG),
      reloadCommand: v.NORN_CLOUDFLARED_RESTART,
      reloadTimeoutMs: v.NORN_CLOUDFLARED_RESTART_TIMEOUT_SECONDS * 1000,
    },
    consul: { address: v.CONSUL_HTTP_ADDR, token: v.CONSUL_HTTP_TOKEN },
    postgresUrl: v.NORN_POSTGRES_URL,
    appPostgresUrl: v.NORN_APP_POSTGRES_URL,
    snapshotsDir: v.NORN_SNAPSHOTS_DIR ? resolve(v.NORN_SNAPSHOTS_DIR) : path.join(resolve(v.NORN_DATA_DIR), 'snapshots'),
    statuses: statusConfigFromEnv(env),
    snapshotImportMaxBytes: v.NORN_SNAPSHOT_IMPORT_MAX_MB * 1024 * 1024,
    env,
  };
}

const LIBPQ_PARAMS: Readonly<Record<string, string>> = {
  PGSSLMODE: 'sslmode',
  PGSSLROOTCERT: 'sslrootcert',
  PGSSLCERT: 'sslcert',
  PGSSLKEY: 'sslkey',
  PGAPPNAME: 'application_name',
  PGCONNECT_TIMEOUT: 'connect_timeout',
};

/**
 * The admin URL the libpq variables describe (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and the TLS ones), or
 * undefined when none of the connection variables is set. Defaults are libpq's: localhost, 5432, the OS user.
 */
export function adminUrlFromLibpqEnv(env: Env): string | undefined {
  const get = (name: string) => emptyToUndefined(env[name]);
  if (!['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'].some((n) => get(n) !== undefined)) return undefined;
  const url = new URL('postgres://localhost');
  const host = get('PGHOST') ?? 'localhost';
  // A host that is a path is a socket directory: libpq takes it as the `host` parameter.
  if (host.startsWith('/')) url.searchParams.set('host', host);
  else url.hostname = host.includes(':') ? `[${host}]` : host;
  if (get('PGPORT')) url.port = get('PGPORT')!;
  url.username = encodeURIComponent(get('PGUSER') ?? os.userInfo().username);
  if (get('PGPASSWORD')) url.password = encodeURIComponent(get('PGPASSWORD')!);
  url.pathname = `/${encodeURIComponent(get('PGDATABASE') ?? 'postgres')}`;
  for (const [variable, param] of Object.entries(LIBPQ_PARAMS)) if (get(variable)) url.searchParams.set(param, get(variable)!);
  return url.href;
}

/** Nomad's TLS files, read at start-up so a missing file is a configuration error, not a failed deploy. */
function nomadTls(v: z.infer<typeof schema>, resolve: (p: string) => string): Config['nomad']['tls'] {
  const read = (variable: string, file: string | undefined) => {
    if (!file) return undefined;
    try {
      return fs.readFileSync(resolve(file), 'utf8');
    } catch {
      throw new ConfigError(variable, `cannot read ${file}`);
    }
  };
  const insecure = v.NOMAD_SKIP_VERIFY === 'true' || v.NOMAD_SKIP_VERIFY === '1';
  const ca = read('NOMAD_CACERT', v.NOMAD_CACERT);
  const cert = read('NOMAD_CLIENT_CERT', v.NOMAD_CLIENT_CERT);
  const key = read('NOMAD_CLIENT_KEY', v.NOMAD_CLIENT_KEY);
  return ca || cert || key || insecure ? { ca, cert, key, insecure } : undefined;
}

function readConfigFile(file: string | undefined, cwd: string): Record<string, string> {
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new ConfigError('NORN_CONFIG', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    throw new ConfigError('NORN_CONFIG', `${file} is not valid YAML`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('NORN_CONFIG', `${file} must be a map of NORN_* settings`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new ConfigError('NORN_CONFIG', `${file}: key ${key} is not a setting name`);
    if (value !== null && typeof value === 'object') throw new ConfigError(key, `in ${file} must be a scalar`);
    out[key] = String(value);
  }
  return out;
}

function emptyToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** The settings table for `norn serve --help`: name, default, help; secrets show only whether they are set. */
export function describeSettings(processEnv: Env): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  return SETTINGS.map((s) => {
    const current = processEnv[s.name];
    const shown = s.secret ? (current ? '(set)' : '(unset)') : s.default !== undefined ? `default ${s.default || '""'}` : '(unset)';
    return `  ${s.name.padEnd(width)}  ${s.help} [${shown}]`;
  }).join('\n');
}
