// Where the real SOPS files live (shared/fixtures/sops, see its README), and which key opens which.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAgeIdentities } from '../../../src/integrations/sops/age-identities.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = process.env.NORN_FIXTURES_DIR ?? join(repoRoot, '..', 'shared', 'fixtures');
export const sopsDir = join(fixturesDir, 'sops');

export const sopsPath = (name: string): string => join(sopsDir, name);
export const readSops = (name: string): string => readFileSync(sopsPath(name), 'utf8');
export const identitiesIn = (name: string): string[] => parseAgeIdentities(readSops(name), name);

/** Every encrypted fixture, with the keys file that opens it. */
export const SOPS_FIXTURES = [
  { file: 'sops-upstream/example.enc.yaml', format: 'yaml', keys: 'sops-upstream/keys.txt' },
  { file: 'sops-upstream/example.enc.json', format: 'json', keys: 'sops-upstream/keys.txt' },
  { file: 'humphd-sops-age/secret.enc.yaml', format: 'yaml', keys: 'humphd-sops-age/key.txt' },
  { file: 'humphd-sops-age/secret.enc.json', format: 'json', keys: 'humphd-sops-age/key.txt' },
  { file: 'humphd-sops-age/secret.enc.env', format: 'dotenv', keys: 'humphd-sops-age/key.txt' },
  { file: 'flux-kustomize-controller/age.yaml', format: 'yaml', keys: 'flux-kustomize-controller/age.txt' },
  { file: 'flux-kustomize-controller/env.env', format: 'dotenv', keys: 'flux-kustomize-controller/age.txt' },
  { file: 'flux-kustomize-controller/global-secret.yaml', format: 'yaml', keys: 'flux-kustomize-controller/age-global.txt' },
] as const;

/** Skips (with the reason) when the fixtures are not beside the checkout, as the fixtures README asks. */
export function requireSopsFixtures(context: Mocha.Context): void {
  if (existsSync(sopsDir)) return;
  console.warn(`SOPS fixtures not found at ${sopsDir}: set NORN_FIXTURES_DIR to the shared/fixtures folder`);
  context.skip();
}
