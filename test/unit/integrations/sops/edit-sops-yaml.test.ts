// Setting and deleting values in real sops-made YAML files (test/fixtures/sops): the result opens with the
// project's decryptor (MAC verified), the MAC is sops's (SHA-512 over the plaintext values in order), and every
// byte but the edited entry, `lastmodified` and `mac` is the file's own, comments included.
import { createHash } from 'node:crypto';
import { generateIdentity } from 'age-encryption';
import { expect } from 'chai';
import { decryptDataKey } from '../../../../src/integrations/sops/data-key.js';
import { decryptSops } from '../../../../src/integrations/sops/decrypt-sops.js';
import { editSopsYaml, type SopsEdit } from '../../../../src/integrations/sops/edit-sops-yaml.js';
import { openEncryptedValue, parseEncryptedValue } from '../../../../src/integrations/sops/sops-cipher.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';
import { parseSopsMetadata } from '../../../../src/integrations/sops/sops-metadata.js';
import { parseSopsYaml } from '../../../../src/integrations/sops/yaml-format.js';
import { identitiesIn, readSops } from './sops-fixtures.js';

const NOW = new Date('2026-12-07T01:02:03.456Z');
const VALUE = 'n3w-s3cret-value-for-the-test';

const HUMPHD = { file: 'humphd-sops-age/secret.enc.yaml', keys: 'humphd-sops-age/key.txt' };
const UPSTREAM = { file: 'sops-upstream/example.enc.yaml', keys: 'sops-upstream/keys.txt' };

async function edit(fixture: { file: string; keys: string }, change: SopsEdit) {
  return editSopsYaml(readSops(fixture.file), change, identitiesIn(fixture.keys), NOW);
}

/** The file's lines without `lastmodified` and `mac`, which every edit renews. */
function withoutMacLines(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*(lastmodified|mac):/.test(line));
}

async function rejection(promise: Promise<unknown>): Promise<SopsError> {
  const err = await promise.then(
    () => expect.fail('should reject'),
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(SopsError);
  return err as SopsError;
}

describe('editSopsYaml', function () {
  for (const fixture of [HUMPHD, UPSTREAM]) {
    describe(fixture.file, function () {
      it('adds a key as the last data entry; it decrypts, the MAC verifies, and every other byte is the file\'s', async () => {
        const original = readSops(fixture.file);
        const { text, outcome } = await edit(fixture, { op: 'set', key: 'NEW_KEY', value: VALUE });
        expect(outcome).to.equal('added');
        const doc = await decryptSops(text, 'yaml', identitiesIn(fixture.keys));
        const before = await decryptSops(original, 'yaml', identitiesIn(fixture.keys));
        expect(doc.data).to.deep.equal({ ...before.data, NEW_KEY: VALUE });
        expect(Object.keys(doc.data).at(-1)).to.equal('NEW_KEY');

        const added = withoutMacLines(text);
        const at = added.findIndex((line) => line.startsWith('NEW_KEY: ENC[AES256_GCM,data:'));
        expect(at).to.equal(added.indexOf('sops:') - 1);
        expect(added.toSpliced(at, 1)).to.deep.equal(withoutMacLines(original));
        expect(text).to.contain('lastmodified: "2026-12-07T01:02:03Z"\n');
        expect(text).not.to.contain(VALUE);
      });

      it('replaces a value in place, keeping the line\'s place and everything else', async () => {
        const original = readSops(fixture.file);
        const key = Object.keys((await decryptSops(original, 'yaml', identitiesIn(fixture.keys))).data)[0]!;
        const { text, outcome } = await edit(fixture, { op: 'set', key, value: VALUE });
        expect(outcome).to.equal('replaced');
        expect((await decryptSops(text, 'yaml', identitiesIn(fixture.keys))).data[key]).to.equal(VALUE);
        const [was, now] = [withoutMacLines(original), withoutMacLines(text)];
        const changed = now.flatMap((line, index) => (line === was[index] ? [] : [index]));
        expect(changed).to.deep.equal([0]);
        expect(now[0]).to.match(new RegExp(`^${key}: ENC\\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:str\\]$`));
        expect(now).to.have.length(was.length);
      });

      it('deletes a key\'s lines only', async () => {
        const original = readSops(fixture.file);
        const before = await decryptSops(original, 'yaml', identitiesIn(fixture.keys));
        const key = Object.keys(before.data)[0]!;
        const { text, outcome } = await edit(fixture, { op: 'delete', key });
        expect(outcome).to.equal('deleted');
        const { [key]: _gone, ...rest } = before.data;
        expect((await decryptSops(text, 'yaml', identitiesIn(fixture.keys))).data).to.deep.equal(rest);
        expect(withoutMacLines(text)).to.deep.equal(withoutMacLines(original).slice(1));
      });
    });
  }

  it('keeps encrypted comments byte for byte, and they still decrypt', async () => {
    const { text } = await edit(UPSTREAM, { op: 'set', key: 'myapp1', value: VALUE });
    const comments = (t: string) => t.split('\n').filter((line) => line.trim().startsWith('#'));
    expect(comments(text)).to.deep.equal(comments(readSops(UPSTREAM.file))).and.to.have.length.greaterThan(2);
    const decrypted = await decryptSops(text, 'yaml', identitiesIn(UPSTREAM.keys));
    expect(decrypted.text).to.equal((await decryptSops(readSops(UPSTREAM.file), 'yaml', identitiesIn(UPSTREAM.keys))).text.replace(/^myapp1: .*$/m, `myapp1: ${VALUE}`));
  });

  it('writes the MAC sops computes: SHA-512 over every plaintext value in order, sealed with lastmodified', async () => {
    const { text } = await edit(HUMPHD, { op: 'set', key: 'NEW_KEY', value: VALUE });
    // secret.json holds the plaintext: values in file order, as sops's ToBytes writes them (bools title-cased).
    const values = ['this is a secret', 'string', '7', '3.14', 'True', 'this is a secret', 'one', 'two', 'three', VALUE];
    const expected = createHash('sha512').update(Buffer.concat(values.map((v) => Buffer.from(v)))).digest('hex').toUpperCase();
    const mac = parseEncryptedValue(/^ {2}mac: (.+)$/m.exec(text)![1]!)!;
    const dataKey = await decryptDataKey(parseSopsMetadata(parseSopsYaml(text).metadata).age, identitiesIn(HUMPHD.keys));
    expect(openEncryptedValue(mac, dataKey, '2026-12-07T01:02:03Z')?.toString()).to.equal(expected);
  });

  it('leaves the file as it is when nothing changes', async () => {
    const original = readSops(HUMPHD.file);
    expect(await edit(HUMPHD, { op: 'set', key: 'secret', value: 'this is a secret' })).to.include({ text: original, outcome: 'unchanged' });
    expect(await edit(HUMPHD, { op: 'delete', key: 'NOT_THERE' })).to.include({ text: original, outcome: 'absent' });
  });

  it('sets a key after an earlier edit, on its own output', async () => {
    const first = await edit(HUMPHD, { op: 'set', key: 'ONE', value: 'first-value' });
    const second = await editSopsYaml(first.text, { op: 'set', key: 'TWO', value: 'second-value' }, identitiesIn(HUMPHD.keys), NOW);
    const third = await editSopsYaml(second.text, { op: 'delete', key: 'ONE' }, identitiesIn(HUMPHD.keys), NOW);
    const data = (await decryptSops(third.text, 'yaml', identitiesIn(HUMPHD.keys))).data;
    expect(data).to.include({ TWO: 'second-value' }).and.not.to.have.property('ONE');
  });

  it('refuses an identity that is not a recipient, and changes nothing', async () => {
    const stranger = await generateIdentity();
    const err = await rejection(editSopsYaml(readSops(HUMPHD.file), { op: 'set', key: 'K', value: VALUE }, [stranger], NOW));
    expect(err.code).to.equal('no-matching-identity');
    expect(err.message).to.contain('age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr');
  });

  it('refuses to edit a file whose MAC does not verify', async () => {
    const tampered = readSops(HUMPHD.file).replace('lastmodified: "2024-03-25T22:08:10Z"', 'lastmodified: "2024-03-25T22:08:11Z"');
    const err = await rejection(editSopsYaml(tampered, { op: 'set', key: 'K', value: VALUE }, identitiesIn(HUMPHD.keys), NOW));
    expect(err.code).to.equal('tampered');
  });

  it('refuses a name the file\'s rules would leave in plain text, without quoting the value', async () => {
    const file = 'flux-kustomize-controller/global-secret.yaml';
    const err = await rejection(editSopsYaml(readSops(file), { op: 'set', key: 'API_KEY', value: VALUE }, identitiesIn('flux-kustomize-controller/age-global.txt'), NOW));
    expect(err.code).to.equal('unsupported');
    expect(err.message).to.equal("'API_KEY' is not encrypted under this file's sops rules (encrypted_regex: ^(data|stringData)$), so its value would be stored in plain text; choose a name the rule encrypts");
    const suffixed = await rejection(edit(HUMPHD, { op: 'set', key: 'TOKEN_unencrypted', value: VALUE }));
    expect(suffixed.message).to.contain('unencrypted_suffix: _unencrypted').and.not.to.contain(VALUE);
  });

  it('refuses to replace a nested value with a string', async () => {
    const err = await rejection(edit(HUMPHD, { op: 'set', key: 'complex', value: VALUE }));
    expect(err.message).to.equal("'complex' holds a nested map or list; only a top-level string can be set (edit this file with sops)");
  });

  it('deletes a nested entry whole, comments of the next entry kept', async () => {
    const { text } = await edit(UPSTREAM, { op: 'delete', key: 'app2' });
    const data = (await decryptSops(text, 'yaml', identitiesIn(UPSTREAM.keys))).data;
    expect(Object.keys(data)).to.deep.equal(['myapp1', 'number', 'an_array', 'somebooleans', 'this', 'somelist_unencrypted', 'nested_unencrypted']);
    expect(text.split('\n')[1]).to.match(/^number: ENC\[/);
  });

  it('keeps a file\'s CRLF line ends on the line it adds', async () => {
    const crlf = readSops(HUMPHD.file).replace(/\n/g, '\r\n');
    const { text } = await editSopsYaml(crlf, { op: 'set', key: 'NEW_KEY', value: VALUE }, identitiesIn(HUMPHD.keys), NOW);
    expect(text.split('\n').every((line, i, all) => i === all.length - 1 || line.endsWith('\r'))).to.equal(true);
    expect((await decryptSops(text, 'yaml', identitiesIn(HUMPHD.keys))).data).to.include({ NEW_KEY: VALUE });
  });

  it('quotes a key YAML would read as something other than that string', async () => {
    const { text } = await edit(HUMPHD, { op: 'set', key: 'null', value: VALUE });
    expect(text).to.match(/^"null": ENC\[/m);
    expect((await decryptSops(text, 'yaml', identitiesIn(HUMPHD.keys))).data).to.have.property('null', VALUE);
  });
});
