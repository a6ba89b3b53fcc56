// The API token when NORN_API_TOKEN is not set: generated once into `<data dir>/api-token` (mode 0600), read back
// by the service on every start and by the CLI on the same machine. So the API is never open by default, and the
// README's first command still works. The token itself is never logged; only the file's path is.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';

export const API_TOKEN_FILE_NAME = 'api-token';

export interface GeneratedToken {
  readonly token: string;
  readonly file: string;
  /** True when this start wrote the file. */
  readonly created: boolean;
  /** The file is readable or writable by others than its owner. */
  readonly isExposed: boolean;
}

export function apiTokenFile(dataDir: string): string {
  return path.join(dataDir, API_TOKEN_FILE_NAME);
}

/** Reads the token file in `dataDir`, creating it with a fresh random token when there is none. */
export async function ensureApiTokenFile(dataDir: string): Promise<GeneratedToken> {
  const file = apiTokenFile(dataDir);
  await fsp.mkdir(dataDir, { recursive: true });
  let created = false;
  // Written whole under another name, then linked into place: a second receiver starting at the same moment
  // either links first or reads a complete file, never half of one.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await fsp.writeFile(temp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await fsp.link(temp, file);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fsp.rm(temp, { force: true });
  }
  const token = (await fsp.readFile(file, 'utf8')).trim();
  if (token.length < 16) throw new ConfigError('NORN_API_TOKEN', `${file} holds no usable token (under 16 characters); delete it to have a new one generated, or set NORN_API_TOKEN`);
  const isExposed = ((await fsp.stat(file)).mode & 0o077) !== 0;
  return { token, file, created, isExposed };
}

/**
 * The CLI's fallback when NORN_API_TOKEN is unset: the token file of the receiver on this machine (NORN_DATA_DIR,
 * default ./data, as `norn serve` reads it). Undefined when there is none or it cannot be read.
 */
export function readApiTokenFile(env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): string | undefined {
  const dataDir = path.resolve(cwd, (env.NORN_DATA_DIR?.trim() || './data').replace(/^~(?=$|\/)/, os.homedir()));
  try {
    return fs.readFileSync(apiTokenFile(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
