// Decrypted secrets as environment variables for a task: top-level scalars become strings. Nested maps and lists
// and nulls have no single env form, so they are skipped and named in `skipped` for the caller to report.
import { formatGoFloat } from './sops-tree.js';

export interface SopsEnv {
  readonly env: Record<string, string>;
  /** Keys left out, with why; names only, never values. */
  readonly skipped: readonly { readonly key: string; readonly reason: 'nested' | 'null' }[];
}

export function flattenToEnv(data: Readonly<Record<string, unknown>>): SopsEnv {
  const env: [string, string][] = [];
  const skipped: { key: string; reason: 'nested' | 'null' }[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined) skipped.push({ key, reason: 'null' });
    else if (typeof value === 'object') skipped.push({ key, reason: 'nested' });
    else env.push([key, typeof value === 'number' ? formatGoFloat(value) : String(value)]);
  }
  // fromEntries, so a key named `__proto__` becomes a variable rather than a prototype.
  return { env: Object.fromEntries(env), skipped };
}
