// Metadata options the real fixtures do not use, on files written the way sops writes them.
import { generateIdentity } from 'age-encryption';
import { expect } from 'chai';
import { decryptSops } from '../../../../src/integrations/sops/decrypt-sops.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';
import { writeSopsDotenv } from './sops-dotenv-writer.js';

async function refusal(promise: Promise<unknown>): Promise<SopsError> {
  const err = await promise.then(() => expect.fail('expected a refusal'), (e: unknown) => e);
  expect(err).to.be.instanceOf(SopsError);
  return err as SopsError;
}

describe('SOPS encryption rules and MAC options', () => {
  let identity: string;
  before(async () => {
    identity = await generateIdentity();
  });

  it('encrypted_regex: decrypts matching keys and keeps the others as written', async () => {
    const text = await writeSopsDotenv(
      [
        { key: 'SECRET_TOKEN', value: 's3cr3t-token', encrypt: true },
        { key: 'PUBLIC_URL', value: 'https://example.test', encrypt: false },
      ],
      { identity, metadata: { encrypted_regex: '^SECRET_' } },
    );
    const doc = await decryptSops(text, 'dotenv', [identity]);
    expect(doc.data).to.deep.equal({ SECRET_TOKEN: 's3cr3t-token', PUBLIC_URL: 'https://example.test' });
  });

  it('encrypted_suffix and the default _unencrypted suffix pick the same leaves sops picks', async () => {
    const suffixed = await writeSopsDotenv(
      [
        { key: 'db_secret', value: 'hunter22', encrypt: true },
        { key: 'db_host', value: 'db.internal', encrypt: false },
      ],
      { identity, metadata: { encrypted_suffix: '_secret' } },
    );
    expect((await decryptSops(suffixed, 'dotenv', [identity])).data).to.deep.equal({ db_secret: 'hunter22', db_host: 'db.internal' });
    const plainSuffix = await writeSopsDotenv(
      [
        { key: 'TOKEN', value: 'abc123', encrypt: true },
        { key: 'REGION_unencrypted', value: 'eu-west', encrypt: false },
      ],
      { identity, metadata: { unencrypted_suffix: '_unencrypted' } },
    );
    expect((await decryptSops(plainSuffix, 'dotenv', [identity])).data).to.deep.equal({ TOKEN: 'abc123', REGION_unencrypted: 'eu-west' });
  });

  it('mac_only_encrypted: a clear-text value may change, an encrypted one may not move', async () => {
    const lines = [
      { key: 'SECRET_A', value: 'alpha-secret', encrypt: true },
      { key: 'SECRET_B', value: 'bravo-secret', encrypt: true },
      { key: 'PLAIN', value: 'before', encrypt: false },
    ];
    const macOnly = await writeSopsDotenv(lines, { identity, macOnlyEncrypted: true, metadata: { encrypted_regex: '^SECRET_' } });
    const edited = macOnly.replace('PLAIN=before', 'PLAIN=after');
    expect((await decryptSops(edited, 'dotenv', [identity])).data).to.include({ PLAIN: 'after', SECRET_A: 'alpha-secret' });

    const reordered = macOnly.split('\n');
    [reordered[0], reordered[1]] = [reordered[1]!, reordered[0]!];
    const err = await refusal(decryptSops(reordered.join('\n'), 'dotenv', [identity]));
    expect(err.message).to.equal('MAC mismatch: file was modified after encryption');

    const fullMac = await writeSopsDotenv(lines, { identity, metadata: { encrypted_regex: '^SECRET_' } });
    const fullErr = await refusal(decryptSops(fullMac.replace('PLAIN=before', 'PLAIN=after'), 'dotenv', [identity]));
    expect(fullErr.code).to.equal('tampered');
  });

  it('mac_only_encrypted is part of what the MAC means: dropping the flag breaks it', async () => {
    const text = await writeSopsDotenv([{ key: 'K', value: 'v1-secret', encrypt: true }], { identity, macOnlyEncrypted: true });
    const err = await refusal(decryptSops(text.replace('sops_mac_only_encrypted=true\n', ''), 'dotenv', [identity]));
    expect(err.message).to.equal('MAC mismatch: file was modified after encryption');
  });

  it('decrypts encrypted comments for the rendered file; they are outside the MAC', async () => {
    const text = await writeSopsDotenv(
      [
        { comment: ' rotate every month', encrypt: true },
        { key: 'API_KEY', value: 'k-123456', encrypt: true },
      ],
      { identity },
    );
    const doc = await decryptSops(text, 'dotenv', [identity]);
    expect(doc.text).to.equal('# rotate every month\nAPI_KEY=k-123456\n');
    expect(doc.data).to.deep.equal({ API_KEY: 'k-123456' });
  });

  it('encrypted_comment_regex: only the value right after a marker comment is encrypted', async () => {
    const text = await writeSopsDotenv(
      [
        { comment: ' sops:enc', encrypt: false },
        { key: 'MARKED', value: 'marked-secret', encrypt: true },
        { key: 'NEXT', value: 'in the clear', encrypt: false },
      ],
      { identity, metadata: { encrypted_comment_regex: 'sops:enc' } },
    );
    const doc = await decryptSops(text, 'dotenv', [identity]);
    expect(doc.data).to.deep.equal({ MARKED: 'marked-secret', NEXT: 'in the clear' });
    expect(doc.text).to.match(/^# sops:enc\n/);
  });

  it('refuses a value left in clear where the rules say sops encrypted it', async () => {
    const text = await writeSopsDotenv([{ key: 'TOKEN', value: 'abc123', encrypt: true }], { identity });
    const err = await refusal(decryptSops(text.replace(/^TOKEN=.*$/m, 'TOKEN=abc123'), 'dotenv', [identity]));
    expect(err.code).to.equal('tampered');
    expect(err.message).to.include("'TOKEN:'").and.not.include('abc123');
  });

  it('refuses metadata that sets two encryption rules, as sops does', async () => {
    const text = await writeSopsDotenv([{ key: 'A', value: 'x', encrypt: true }], {
      identity,
      metadata: { encrypted_regex: '^A', unencrypted_suffix: '_plain' },
    });
    expect((await refusal(decryptSops(text, 'dotenv', [identity]))).code).to.equal('malformed');
  });
});
