// `norn validate [dir]`: load every <dir>/*/infraspec.yaml and print each app or each error (file, field, reason).
// Exits non-zero when any spec is invalid; warnings (unknown fields, settings not acted on) are printed under their
// app and do not change the exit code. Reads files directly, so it works before the service runs.
import path from 'node:path';
import { loadAppSpecs } from '../apps/load-app-specs.js';
import { terminalSafe } from './terminal-text.js';

export async function validateCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const dir = path.resolve(args[0] ?? env.NORN_APPS_DIR ?? './config/apps');
  const { apps, errors } = await loadAppSpecs(dir);
  let warnings = 0;
  for (const app of apps) {
    const file = path.relative(process.cwd(), app.file);
    process.stdout.write(terminalSafe(`✓ ${app.name}  ${file}\n`));
    for (const w of app.warnings) process.stdout.write(terminalSafe(`  ! ${file}${w.line ? `:${w.line}` : ''}  ${w.path}: ${w.reason}\n`));
    warnings += app.warnings.length;
  }
  for (const e of errors) {
    const where = `${path.relative(process.cwd(), e.file)}${e.line ? `:${e.line}` : ''}`;
    process.stdout.write(terminalSafe(`✗ ${where}  ${e.path || '(file)'}: ${e.reason}\n`));
  }
  process.stdout.write(terminalSafe(`${apps.length} valid, ${errors.length} error(s), ${warnings} warning(s) in ${dir}\n`));
  return errors.length > 0 ? 1 : 0;
}
