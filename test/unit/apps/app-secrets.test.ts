// The glue between an app's secrets file and the submit step, over a real SOPS fixture (read from the shared
// fixtures dir and copied to a temp spec dir, never into the repo).
import { expect } from 'chai';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findSecretsFile, sopsSecretsLoader } from '../../../src/apps/app-secrets.js';
import { fixturesDir } from '../../support/fixtures-dir.js';

describe('sopsSecretsLoader', () => {
  let specDir: string;
  const fixture = (name: string) => path.join(fixturesDir(), 'sops', 'humphd-sops-age', name);
  const loader = () => sopsSecretsLoader({ SOPS_AGE_KEY_FILE: fixture('key.txt') });

  beforeEach(async () => {
    specDir = await mkdtemp(path.join(tmpdir(), 'app-secrets-'));
  });
  afterEach(() => rm(specDir, { recursive: true, force: true }));

  it('returns undefined for an app without a secrets file', async () => {
    expect(await loader()(specDir)).to.equal(undefined);
  });

  it('decrypts secrets.enc.yaml into env values and names the nested keys it leaves out', async () => {
    await copyFile(fixture('secret.enc.yaml'), path.join(specDir, 'secrets.enc.yaml'));
    const secrets = await loader()(specDir);
    expect(secrets!.env).to.include({ secret: 'this is a secret', string: 'string', int: '7', float: '3.14', boolean: 'true' });
    expect(secrets!.skipped).to.deep.equal(['complex']);
  });

  it('finds the json and dotenv forms too, yaml first', async () => {
    await copyFile(fixture('secret.enc.env'), path.join(specDir, 'secrets.enc.env'));
    expect(await findSecretsFile(specDir)).to.equal(path.join(specDir, 'secrets.enc.env'));
    expect((await loader()(specDir))!.env).to.have.property('secret');
    await copyFile(fixture('secret.enc.json'), path.join(specDir, 'secrets.enc.json'));
    expect(await findSecretsFile(specDir)).to.equal(path.join(specDir, 'secrets.enc.json'));
    await copyFile(fixture('secret.enc.yaml'), path.join(specDir, 'secrets.enc.yaml'));
    expect(await findSecretsFile(specDir)).to.equal(path.join(specDir, 'secrets.enc.yaml'));
  });

  it('refuses a tampered file without showing any value', async () => {
    const text = await readFile(fixture('secret.enc.yaml'), 'utf8');
    await writeFile(path.join(specDir, 'secrets.enc.yaml'), text.replace(/^string: ENC\[AES256_GCM,data:[^,]+/m, 'string: ENC[AES256_GCM,data:AAAAAAAA'));
    const err = await loader()(specDir).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).not.to.include('this is a secret');
  });
});
