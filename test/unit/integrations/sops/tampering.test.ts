// Altered copies of the real fixtures must be refused, and no refusal may show a decrypted value.
import { expect } from 'chai';
import { decryptSops, type SopsFormat } from '../../../../src/integrations/sops/decrypt-sops.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';
import { SOPS_FIXTURES, identitiesIn, readSops } from './sops-fixtures.js';

const ENC = /ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:[^\]]+\]/g;
const MAC_ENC = /(mac"?\s*[:=]\s*"?)ENC\[AES256_GCM,data:([A-Za-z0-9+/=]+)/;

/** Flips one bit of the first byte of a base64 string. */
function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('base64');
}

/** The encrypted data values (not the MAC) in file order, with their offsets. */
function encryptedValues(text: string): { text: string; data: string; index: number }[] {
  const mac = MAC_ENC.exec(text);
  return [...text.matchAll(ENC)]
    .filter((m) => m[1] !== mac?.[2] && !/type:comment\]$/.test(m[0]))
    .map((m) => ({ text: m[0], data: m[1]!, index: m.index }));
}

const alterations: Record<string, (text: string) => string> = {
  'one ciphertext byte changed': (text) => {
    const first = encryptedValues(text)[0]!;
    const changed = first.text.replace(`data:${first.data}`, `data:${flipFirstByte(first.data)}`);
    return text.slice(0, first.index) + changed + text.slice(first.index + first.text.length);
  },
  // Two values swapped between their keys; a file with one value gets it under a renamed key instead.
  'a value moved to another key': (text) => {
    const [a, b] = encryptedValues(text);
    if (!b) {
      const lineStart = text.lastIndexOf('\n', a!.index) + 1;
      return text.slice(0, lineStart) + text.slice(lineStart).replace(/^(\s*"?)([\w-]+)/, '$1moved_$2');
    }
    const between = text.slice(a!.index + a!.text.length, b.index);
    return text.slice(0, a!.index) + b.text + between + a!.text + text.slice(b.index + b.text.length);
  },
  // The tens of seconds move by one: still a valid timestamp, no longer the one the MAC was sealed with.
  'lastmodified changed': (text) =>
    text.replace(/(lastmodified"?\s*[:=]\s*"?\d{4}-\d\d-\d\dT\d\d:\d\d:)(\d)/, (_m, head: string, digit: string) =>
      head.concat(String((Number(digit) + 1) % 6)),
    ),
  'mac changed': (text) =>
    text.replace(MAC_ENC, (_m, head: string, data: string) => `${head}ENC[AES256_GCM,data:${flipFirstByte(data)}`),
};

async function refusal(text: string, format: SopsFormat, identities: string[]): Promise<SopsError> {
  try {
    await decryptSops(text, format, identities);
  } catch (err) {
    expect(err).to.be.instanceOf(SopsError);
    return err as SopsError;
  }
  return expect.fail('the altered file was accepted');
}

/** The file's secrets: decrypted strings that do not appear in the encrypted file itself. */
async function secretsOf(text: string, format: SopsFormat, identities: string[]): Promise<string[]> {
  const leaves: string[] = [];
  const collect = (value: unknown): void => {
    if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
    else if (value !== null && value !== undefined) leaves.push(String(value));
  };
  collect((await decryptSops(text, format, identities)).data);
  // The flux secret is the word "value", which messages use as a word ("value at 'key:' fails …").
  return leaves.filter((leaf) => leaf.length >= 3 && !text.includes(leaf) && leaf !== 'value');
}

function expectNoSecret(err: SopsError, secrets: string[]): void {
  // The stack's frames are left out: they are file paths of this checkout, which may contain a short secret ("one")
  // by chance (a clone in /tmp/ci-clone did); its first line repeats the message, which is what a user sees.
  const stack = (err.stack ?? '').split('\n').filter((line) => !/^\s+at /.test(line));
  const shown = [err.message, ...stack, String((err.cause as Error | undefined)?.message ?? '')].join('\n');
  for (const secret of secrets) expect(shown).to.not.include(secret);
}

describe('decryptSops refuses altered files', function () {
  for (const { file, format, keys } of SOPS_FIXTURES) {
    for (const [name, alter] of Object.entries(alterations)) {
      it(`${file}: ${name}`, async () => {
        const original = readSops(file);
        const altered = alter(original);
        expect(altered).to.not.equal(original);
        const identities = identitiesIn(keys);
        const err = await refusal(altered, format, identities);
        expect(err.code).to.equal('tampered');
        expect(err.message).to.match(/file was modified after encryption/);
        expectNoSecret(err, await secretsOf(original, format, identities));
      });
    }
  }

  describe('edits each value survives but the MAC catches', () => {
    const cases: { name: string; file: string; format: SopsFormat; keys: string; alter: (text: string) => string }[] = [
      {
        name: 'two list items in another order',
        file: 'humphd-sops-age/secret.enc.yaml',
        format: 'yaml',
        keys: 'humphd-sops-age/key.txt',
        alter: (text) => {
          const lines = text.split('\n');
          const first = lines.findIndex((line) => line.trim().startsWith('- ENC['));
          [lines[first], lines[first + 1]] = [lines[first + 1]!, lines[first]!];
          return lines.join('\n');
        },
      },
      {
        name: 'a clear-text value changed (_unencrypted suffix)',
        file: 'sops-upstream/example.enc.yaml',
        format: 'yaml',
        keys: 'sops-upstream/keys.txt',
        alter: (text) => text.replace('going to remain in clear text', 'changed by hand'),
      },
      {
        name: 'a clear-text field of a Secret changed (encrypted_regex)',
        file: 'flux-kustomize-controller/global-secret.yaml',
        format: 'yaml',
        keys: 'flux-kustomize-controller/age-global.txt',
        alter: (text) => text.replace('namespace: default', 'namespace: kube-system'),
      },
      {
        name: 'a value removed',
        file: 'humphd-sops-age/secret.enc.env',
        format: 'dotenv',
        keys: 'humphd-sops-age/key.txt',
        alter: (text) => text.replace(/^another_secret=.*\n/m, ''),
      },
      {
        name: 'two members in another order',
        file: 'sops-upstream/example.enc.json',
        format: 'json',
        keys: 'sops-upstream/keys.txt',
        alter: (text) => {
          const lines = text.split('\n');
          const first = lines.findIndex((line) => line.includes('"firstName"'));
          [lines[first], lines[first + 1]] = [lines[first + 1]!, lines[first]!];
          return lines.join('\n');
        },
      },
    ];
    for (const { name, file, format, keys, alter } of cases) {
      it(`${file}: ${name}`, async () => {
        const original = readSops(file);
        const altered = alter(original);
        expect(altered).to.not.equal(original);
        const identities = identitiesIn(keys);
        const err = await refusal(altered, format, identities);
        expect(err.code).to.equal('tampered');
        expect(err.message).to.equal('MAC mismatch: file was modified after encryption');
        expectNoSecret(err, await secretsOf(original, format, identities));
      });
    }
  });
});
