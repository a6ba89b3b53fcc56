// Where an app's secrets live and how they become task env: `<spec dir>/secrets.enc.{yaml,yml,json,env}`, written
// by SOPS for age recipients, decrypted and MAC-verified by integrations/sops. The runtime receives this as its
// `loadSecrets`, so it never deals with SOPS itself. A file that fails to decrypt or verify throws (SopsError), and
// the deploy stops before anything is registered.
import path from 'node:path';
import { pathExists } from '../files/path-exists.js';
import { type AgeKeyEnv, loadAgeIdentities } from '../integrations/sops/age-identities.js';
import { decryptSopsFile } from '../integrations/sops/decrypt-sops.js';
import { flattenToEnv } from '../integrations/sops/flatten-to-env.js';

/** An app's decrypted secrets as env, or undefined when it has no secrets file. `skipped`: key names left out. */
export type LoadSecrets = (specDir: string) => Promise<{ env: Record<string, string>; skipped: string[] } | undefined>;

/** Looked for in this order; the first one present is used. */
export const SECRETS_FILE_NAMES = ['secrets.enc.yaml', 'secrets.enc.yml', 'secrets.enc.json', 'secrets.enc.env'] as const;

export async function findSecretsFile(specDir: string): Promise<string | undefined> {
  for (const name of SECRETS_FILE_NAMES) {
    const file = path.join(specDir, name);
    if (await pathExists(file)) return file;
  }
  return undefined;
}

/**
 * `env` holds SOPS_AGE_KEY_FILE / SOPS_AGE_KEY, passed in by the config layer. `onDecrypted` learns the values
 * (the service's redactor), so an app's secret echoed back in an error from Nomad or the app is masked too.
 */
export function sopsSecretsLoader(env: AgeKeyEnv, onDecrypted?: (values: string[]) => void): LoadSecrets {
  return async (specDir) => {
    const file = await findSecretsFile(specDir);
    if (!file) return undefined;
    const doc = await decryptSopsFile(file, await loadAgeIdentities(env));
    const { env: values, skipped } = flattenToEnv(doc.data);
    onDecrypted?.(Object.values(values));
    return { env: values, skipped: skipped.map((s) => s.key) };
  };
}
