// Where the captured third-party fixtures live: ../shared/fixtures beside the checkout, or NORN_FIXTURES_DIR.
// They are read in place, never copied into the repo. A missing folder fails the test with what to do.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fixturesDir(): string {
  const dir = process.env.NORN_FIXTURES_DIR ?? resolve(repoRoot, '..', 'shared', 'fixtures');
  if (!existsSync(dir)) {
    throw new Error(
      `third-party fixtures not found at ${dir}: check out the shared fixtures there, ` +
        'or set NORN_FIXTURES_DIR to the folder that holds github/, gitea/, gitlab/ and sops/',
    );
  }
  return dir;
}

/** The fixture's exact bytes (signatures are computed over them), e.g. readFixture('gitlab/drone-go-scm/push.json'). */
export function readFixture(relPath: string): Buffer {
  const file = join(fixturesDir(), relPath);
  if (!existsSync(file)) throw new Error(`fixture ${relPath} not found in ${fixturesDir()}`);
  return readFileSync(file);
}
