// Where the real SOPS files live (test/fixtures/sops, see PROVENANCE.md in each folder), and which key opens which.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAgeIdentities } from '../../../../src/integrations/sops/age-identities.js';
import { fixturesDir } from '../../../support/fixtures-dir.js';

export const sopsDir = join(fixturesDir(), 'sops');

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
