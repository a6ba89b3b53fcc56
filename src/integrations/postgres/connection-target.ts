// The operator's admin URL (NORN_POSTGRES_URL), parsed once, then pointed at one app database at a time.
// libpq tools get the target through PG* environment variables and the password through a passfile, so nothing
// secret reaches argv; the pg driver gets a ClientConfig.
import type { ClientConfig } from 'pg';
import { ConfigError, InvalidInputError } from '../../errors.js';

export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  /** libpq environment variables for the URL's query parameters (PGSSLMODE, ...). */
  readonly libpqEnv: Readonly<Record<string, string>>;
  /** The URL as given, to derive pg driver configs from (it carries the password: never log it). */
  readonly url: URL;
}

// Query parameters we understand, with the libpq variable each maps to. Anything else is a configuration error
// rather than a setting silently ignored by one of the two clients.
const PARAM_ENV: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
};

const VARIABLE = 'NORN_POSTGRES_URL';

export function parseAdminUrl(raw: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(VARIABLE, 'not a URL (expected postgres://user:password@host:port/db)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(VARIABLE, `unsupported scheme ${url.protocol} (expected postgres:)`);
  }
  const libpqEnv: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    const variable = PARAM_ENV[key];
    if (!variable) throw new ConfigError(VARIABLE, `unsupported query parameter ${key}`);
    libpqEnv[variable] = value;
  }
  const user = decodeURIComponent(url.username);
  if (!user) throw new ConfigError(VARIABLE, 'no user name');
  const port = url.port ? Number(url.port) : 5432;
  // A URL host in brackets is an IPv6 address; libpq wants it bare. A `host` query parameter (a socket dir) wins.
  const host = libpqEnv.PGHOST ?? (url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost');
  return { host, port, user, password: url.password ? decodeURIComponent(url.password) : undefined, libpqEnv, url };
}

/**
 * Refuses database names libpq would read as something else: a name with `=` or a URI scheme is parsed as a
 * whole connection string by pg_dump/pg_restore, which would let a spec point the admin credentials elsewhere.
 */
export function assertDatabaseName(database: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_$.-]{0,62}$/.test(database)) {
    throw new InvalidInputError('infrastructure.postgres.database', `invalid database name ${JSON.stringify(database)}`);
  }
}

/** Environment for a libpq tool connecting to `target` (password excluded: it goes in a passfile). */
export function libpqEnvironment(target: PostgresTarget): Record<string, string> {
  return { ...target.libpqEnv, PGHOST: target.host, PGPORT: String(target.port), PGUSER: target.user };
}

/** One passfile line matching any host/db for this user. `:` and `\` are escaped as libpq requires. */
export function passfileLine(target: PostgresTarget): string {
  const escape = (s: string) => s.replace(/[\\:]/g, (c) => `\\${c}`);
  return `*:*:*:${escape(target.user)}:${escape(target.password ?? '')}\n`;
}

/** A pg driver config for `database` on the admin target. */
export function clientConfig(target: PostgresTarget, database: string): ClientConfig {
  assertDatabaseName(database);
  const url = new URL(target.url.href);
  url.pathname = `/${encodeURIComponent(database)}`;
  return { connectionString: url.href };
}
