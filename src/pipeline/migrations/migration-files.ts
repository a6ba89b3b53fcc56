// Finds an app's SQL migrations in its repository checkout. Accepted layouts: `0001_name.sql` and golang-migrate's
// `0001_name.up.sql` (its `.down.sql` files are ignored: Norn only rolls forward). Order: numeric prefix, then
// file name. The directory and every file must resolve inside the checkout, symlinks included.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '../../errors.js';

export interface MigrationFile {
  /** File name, the key a migration is recorded under. */
  readonly file: string;
  /** Numeric prefix as written (leading zeros kept). */
  readonly version: string;
  readonly name: string;
  readonly sql: string;
  /** sha256 of the file's bytes, hex. */
  readonly checksum: string;
}

const MIGRATION_FILE = /^(\d+)_(.+?)(\.up)?\.sql$/;
const FIELD = 'migrations';

/** Absolute, symlink-resolved migrations dir; refuses paths leaving the checkout. */
export async function resolveMigrationsDir(workDir: string, relative: string): Promise<string> {
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
    throw new InvalidInputError(FIELD, `${relative} must be a path inside the repository`);
  }
  const root = await fs.realpath(workDir);
  let dir: string;
  try {
    dir = await fs.realpath(path.join(root, relative));
  } catch {
    throw new InvalidInputError(FIELD, `${relative} does not exist in the repository`);
  }
  assertInside(root, dir, relative);
  if (!(await fs.stat(dir)).isDirectory()) throw new InvalidInputError(FIELD, `${relative} is not a directory`);
  return dir;
}

/** The migration files of `dir`, in the order they apply. `root` confines symlinked files. */
export async function listMigrationFiles(root: string, dir: string): Promise<MigrationFile[]> {
  const realRoot = await fs.realpath(root);
  const found: MigrationFile[] = [];
  for (const entry of await fs.readdir(dir)) {
    if (entry.endsWith('.down.sql')) continue;
    const match = MIGRATION_FILE.exec(entry);
    if (!match) continue;
    const real = await fs.realpath(path.join(dir, entry));
    assertInside(realRoot, real, entry);
    if (!(await fs.stat(real)).isFile()) continue;
    const bytes = await fs.readFile(real);
    found.push({
      file: entry,
      version: match[1]!,
      name: match[2]!,
      sql: bytes.toString('utf8'),
      checksum: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  return found.sort(compareMigrations);
}

function compareMigrations(a: MigrationFile, b: MigrationFile): number {
  const va = BigInt(a.version);
  const vb = BigInt(b.version);
  if (va !== vb) return va < vb ? -1 : 1;
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

function assertInside(root: string, target: string, shown: string): void {
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new InvalidInputError(FIELD, `${shown} resolves outside the repository`);
  }
}
