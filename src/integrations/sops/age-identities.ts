// age identities the way sops finds them: SOPS_AGE_KEY (the key text itself) and SOPS_AGE_KEY_FILE (a keys.txt).
// The caller passes the environment in; this module never reads process.env.
import { readFile as fsReadFile } from 'node:fs/promises';
import { SopsError } from './sops-error.js';

export interface AgeKeyEnv {
  readonly SOPS_AGE_KEY_FILE?: string;
  readonly SOPS_AGE_KEY?: string;
}

/**
 * Every identity from both variables (either may be unset). Returns [] when neither is set; decryption then
 * fails with `no-identity`. Throws SopsError('no-identity') for an unreadable file or a line that is not a key.
 */
export async function loadAgeIdentities(
  env: AgeKeyEnv,
  readFile: (path: string) => Promise<string> = (path) => fsReadFile(path, 'utf8'),
): Promise<string[]> {
  const identities: string[] = [];
  if (env.SOPS_AGE_KEY) identities.push(...parseAgeIdentities(env.SOPS_AGE_KEY, 'SOPS_AGE_KEY'));
  if (env.SOPS_AGE_KEY_FILE) {
    let text: string;
    try {
      text = await readFile(env.SOPS_AGE_KEY_FILE);
    } catch (err) {
      throw new SopsError('no-identity', `cannot read SOPS_AGE_KEY_FILE ${env.SOPS_AGE_KEY_FILE}`, { cause: err });
    }
    identities.push(...parseAgeIdentities(text, `SOPS_AGE_KEY_FILE ${env.SOPS_AGE_KEY_FILE}`));
  }
  return [...new Set(identities)];
}

/** The keys of an age keys file: one per line, `#` comments and blank lines ignored (as age-keygen writes it). */
export function parseAgeIdentities(text: string, source: string): string[] {
  const identities: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    // The line is key material: the error names its position only.
    if (!/^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]+$/.test(line)) {
      throw new SopsError('no-identity', `${source}: line ${index + 1} is not an age identity (AGE-SECRET-KEY-1…)`);
    }
    identities.push(line);
  });
  return identities;
}
