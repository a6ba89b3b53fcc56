#!/usr/bin/env node
// The `norn` command of a checkout (`npx norn …`). Runs the build in dist/ when it is there and newer than every
// source file; otherwise the TypeScript source through tsx (a dev dependency), so the command never runs code
// older than the checkout. The published image links dist/src/main.js directly and does not use this file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'main.js');
const source = join(root, 'src', 'main.ts');

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
    const file = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : statSync(file).mtimeMs);
  }
  return newest;
}

const isBuildCurrent = existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(root, 'src'));
if (isBuildCurrent || !existsSync(source)) {
  await import(pathToFileURL(built).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('norn: the build in dist/ is missing or older than src/, and tsx is not installed: run `npm run build`\n');
    process.exit(1);
  }
  register();
  await import(pathToFileURL(source).href);
}
