// Where the captured third-party fixtures live: test/fixtures/<kind>/<source>/, each folder with its PROVENANCE.md.
// They are part of the repository, so a fresh clone tests on its own.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function fixturesDir(): string {
  return FIXTURES_DIR;
}

/** The fixture's exact bytes (signatures are computed over them), e.g. readFixture('gitlab/drone-go-scm/push.json'). */
export function readFixture(relPath: string): Buffer {
  const file = join(FIXTURES_DIR, relPath);
  if (!existsSync(file)) throw new Error(`fixture ${relPath} not found in ${FIXTURES_DIR} (see its README)`);
  return readFileSync(file);
}
