import { expect } from 'chai';
import { inspect } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { decryptSops, decryptSopsFile, renderDecrypted } from '../../../../src/integrations/sops/decrypt-sops.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';
import { SOPS_FIXTURES, identitiesIn, readSops, sopsPath } from './sops-fixtures.js';

async function rejection(promise: Promise<unknown>): Promise<SopsError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(SopsError);
    return err as SopsError;
  }
  expect.fail('expected the promise to reject');
}

describe('decryptSops on real SOPS files', function () {
  for (const { file, keys } of SOPS_FIXTURES) {
    it(`decrypts and verifies the MAC of ${file}`, async () => {
      const doc = await decryptSopsFile(sopsPath(file), identitiesIn(keys));
      expect(doc.data).to.not.have.property('sops');
      expect(renderDecrypted(doc)).to.not.match(/ENC\[AES256_GCM|sops_mac|"?sops"?:/);
    });
  }

  it('decrypts the upstream example with each of its two recipients on its own', async () => {
    const [first, second] = identitiesIn('sops-upstream/keys.txt');
    for (const identity of [first!, second!]) {
      for (const file of ['sops-upstream/example.enc.yaml', 'sops-upstream/example.enc.json']) {
        const doc = await decryptSopsFile(sopsPath(file), [identity]);
        expect(Object.keys(doc.data).length, file).to.be.greaterThan(3);
      }
    }
  });

  it('gives the upstream YAML example its types, clear-text subtrees and decrypted comments', async () => {
    const doc = await decryptSopsFile(sopsPath('sops-upstream/example.enc.yaml'), identitiesIn('sops-upstream/keys.txt'));
    const data = doc.data as { app2: { key: string } } & Record<string, unknown>;
    expect(data.app2.key).to.match(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
    expect(data.somebooleans).to.deep.equal([true, false]);
    expect(data.number).to.be.a('number');
    expect(data.somelist_unencrypted).to.have.length(3);
    expect(data.nested_unencrypted).to.deep.equal({ this: { is: { all: 'going to remain in clear text' } } });
    const text = renderDecrypted(doc);
    expect(text).to.include('# private key for secret operations in app2');
    expect(text).to.include('# by adding the `_unencrypted` suffix');
    expect(parseYaml(text)).to.deep.equal(doc.data);
  });

  it('gives the upstream JSON example its values, in file order', async () => {
    const doc = await decryptSopsFile(sopsPath('sops-upstream/example.enc.json'), identitiesIn('sops-upstream/keys.txt'));
    expect(doc.data).to.include({ firstName: 'John', lastName: 'Smith', age: 25.4, anEmptyValue: '' });
    expect(doc.data.phoneNumbers).to.deep.equal([
      { number: '212 555-1234', type: 'home' },
      { number: '646 555-4567', type: 'office' },
    ]);
    expect(JSON.parse(renderDecrypted(doc))).to.deep.equal(doc.data);
    expect(Object.keys(JSON.parse(renderDecrypted(doc)))).to.deep.equal(Object.keys(doc.data));
  });

  describe('humphd/sops-age files match their plaintext secret.json', () => {
    const plain = () => JSON.parse(readSops('humphd-sops-age/secret.json')) as Record<string, unknown>;
    const ids = () => identitiesIn('humphd-sops-age/key.txt');

    it('JSON: equal to secret.json, numbers and booleans typed', async () => {
      const doc = await decryptSops(readSops('humphd-sops-age/secret.enc.json'), 'json', ids());
      expect(doc.data).to.deep.equal(plain());
      expect(doc.format).to.equal('json');
      expect(JSON.parse(renderDecrypted(doc))).to.deep.equal(plain());
    });

    it('YAML: equal to secret.json (which has one more key)', async () => {
      const doc = await decryptSops(readSops('humphd-sops-age/secret.enc.yaml'), 'yaml', ids());
      const { '0word': _extra, ...expected } = plain();
      expect(doc.data).to.deep.equal(expected);
      expect(parseYaml(renderDecrypted(doc))).to.deep.equal(expected);
    });

    it('dotenv: strings, as dotenv holds them', async () => {
      const doc = await decryptSops(readSops('humphd-sops-age/secret.enc.env'), 'dotenv', ids());
      expect(doc.data).to.deep.equal({ secret: plain().secret, another_secret: '7' });
      expect(renderDecrypted(doc)).to.equal(`secret=${plain().secret}\nanother_secret=7\n`);
    });
  });

  it('reads the flux files: encrypted_regex leaves the rest of the Secret in clear and in the MAC', async () => {
    const age = await decryptSopsFile(sopsPath('flux-kustomize-controller/age.yaml'), identitiesIn('flux-kustomize-controller/age.txt'));
    expect(age.data).to.deep.equal({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'age' }, stringData: { key: 'value' } });
    const env = await decryptSopsFile(sopsPath('flux-kustomize-controller/env.env'), identitiesIn('flux-kustomize-controller/age.txt'));
    expect(env.data).to.deep.equal({ key: 'value' });
    const global = await decryptSopsFile(
      sopsPath('flux-kustomize-controller/global-secret.yaml'),
      identitiesIn('flux-kustomize-controller/age-global.txt'),
    );
    expect(global.data).to.deep.include({ type: 'Opaque', stringData: { key: 'global-value' } });
  });

  it('refuses a key that is not a recipient, naming the recipients and not the key', async () => {
    const wrong = identitiesIn('flux-kustomize-controller/age.txt');
    for (const { file } of SOPS_FIXTURES.filter((f) => f.keys !== 'flux-kustomize-controller/age.txt')) {
      const err = await rejection(decryptSopsFile(sopsPath(file), wrong));
      expect(err.code, file).to.equal('no-matching-identity');
      expect(err.message).to.match(/no age identity matched the file's recipients \(age1/);
      expect(err.message).to.include(file);
      expect(err.message).to.not.include(wrong[0]!);
    }
  });

  it('says so when no identity is configured', async () => {
    const err = await rejection(decryptSops(readSops('humphd-sops-age/secret.enc.yaml'), 'yaml', []));
    expect(err.code).to.equal('no-identity');
    expect(err.message).to.include('SOPS_AGE_KEY_FILE');
  });

  it('refuses a file without sops metadata, and one encrypted to no age recipient', async () => {
    expect((await rejection(decryptSops('a: 1\n', 'yaml', ['x']))).code).to.equal('malformed');
    const pgpOnly = readSops('flux-kustomize-controller/age.yaml').replace(/ {2}age:\n(?: {4}.*\n)+/, '  age: []\n');
    expect((await rejection(decryptSops(pgpOnly, 'yaml', identitiesIn('flux-kustomize-controller/age.txt')))).code).to.equal(
      'unsupported',
    );
  });

  it('shows no secret when the document itself is logged or serialised', async () => {
    const doc = await decryptSops(readSops('humphd-sops-age/secret.enc.json'), 'json', identitiesIn('humphd-sops-age/key.txt'));
    for (const shown of [JSON.stringify(doc), inspect(doc), `${inspect({ doc })}`]) {
      expect(shown).to.not.include('this is a secret');
      expect(shown).to.include('redacted');
    }
    expect(JSON.stringify(doc.data)).to.include('this is a secret');
  });
});
