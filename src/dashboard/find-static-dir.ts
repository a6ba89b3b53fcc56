// The dashboard's static files live in src/dashboard/static and are not copied by `tsc`, so the service finds them
// from wherever this module runs: src/dashboard (tsx) or dist/src/dashboard (the build).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

export function findStaticDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  const candidates = [path.join(from, 'static')];
  for (let dir = from; ; dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'src', 'dashboard', 'static'));
    if (path.dirname(dir) === dir) break;
  }
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'index.html')));
  if (!found) throw new ConfigError('dashboard static dir', `src/dashboard/static/index.html not found in ${from} or above`);
  return found;
}
