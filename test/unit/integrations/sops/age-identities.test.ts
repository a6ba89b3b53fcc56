import { generateIdentity } from 'age-encryption';
import { expect } from 'chai';
import { loadAgeIdentities, parseAgeIdentities } from '../../../../src/integrations/sops/age-identities.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';
import { readSops, sopsPath } from './sops-fixtures.js';

/** The key lines of a fixture keys file, read naively for comparison. */
const keyLines = (name: string) => readSops(name).split('\n').filter((line) => line.startsWith('AGE-SECRET-KEY-'));

describe('loadAgeIdentities', function () {
  it('reads every key of SOPS_AGE_KEY_FILE, skipping comments', async () => {
    const keys = keyLines('sops-upstream/keys.txt');
    expect(keys).to.have.length(2);
    expect(await loadAgeIdentities({ SOPS_AGE_KEY_FILE: sopsPath('sops-upstream/keys.txt') })).to.deep.equal(keys);
  });

  it('takes SOPS_AGE_KEY as the same content, and both variables together', async () => {
    const fromKey = await loadAgeIdentities({ SOPS_AGE_KEY: readSops('humphd-sops-age/key.txt') });
    expect(fromKey).to.deep.equal(keyLines('humphd-sops-age/key.txt'));
    const both = await loadAgeIdentities({
      SOPS_AGE_KEY: readSops('humphd-sops-age/key.txt'),
      SOPS_AGE_KEY_FILE: sopsPath('sops-upstream/keys.txt'),
    });
    expect(both).to.deep.equal([...fromKey, ...keyLines('sops-upstream/keys.txt')]);
  });

  it('returns nothing when neither variable is set', async () => {
    expect(await loadAgeIdentities({})).to.deep.equal([]);
  });

  it('reads the file through the given reader (CRLF too), and names an unreadable file', async () => {
    const key = await generateIdentity();
    const read = async (path: string) => (path === '/keys' ? `# mine\r\n${key}\r\n\n` : Promise.reject(new Error('ENOENT')));
    expect(await loadAgeIdentities({ SOPS_AGE_KEY_FILE: '/keys' }, read)).to.deep.equal([key]);
    const err = await loadAgeIdentities({ SOPS_AGE_KEY_FILE: '/missing' }, read).then(
      () => expect.fail('should reject'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SopsError).with.property('code', 'no-identity');
    expect((err as Error).message).to.include('/missing');
  });

  it('refuses a line that is not a key without repeating it', async () => {
    const leaked = 'AGE-SECRET-KEY-1 not quite';
    const text = `${await generateIdentity()}\n${leaked}\n`;
    expect(() => parseAgeIdentities(text, 'SOPS_AGE_KEY'))
      .to.throw(SopsError, 'SOPS_AGE_KEY: line 2 is not an age identity')
      .with.property('message')
      .that.does.not.include(leaked);
  });
});
