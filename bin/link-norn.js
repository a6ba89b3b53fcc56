// Run by `npm ci`/`npm install` (the `prepare` script): links node_modules/.bin/norn to bin/norn.js, so `npx norn`
// works in a checkout. npm links the bins of dependencies, never the project's own, and `npx` finds a command of
// the project itself only there.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'norn');
rmSync(link, { force: true });
symlinkSync(join('..', '..', 'bin', 'norn.js'), link);
chmodSync(join(root, 'bin', 'norn.js'), 0o755);
