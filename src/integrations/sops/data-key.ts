// The file's 32-byte data key, age-decrypted from one of the `sops.age[].enc` blocks.
import { Decrypter, armor, identityToRecipient } from 'age-encryption';
import { SopsError } from './sops-error.js';
import type { AgeRecipientKey } from './sops-metadata.js';

const DATA_KEY_BYTES = 32;

export async function decryptDataKey(keys: readonly AgeRecipientKey[], identities: readonly string[]): Promise<Uint8Array> {
  if (identities.length === 0) {
    throw new SopsError('no-identity', 'no age identity configured (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)');
  }
  const ours = new Set(await Promise.all(identities.map(toRecipient)));
  const decrypter = new Decrypter();
  identities.forEach((identity) => decrypter.addIdentity(identity));

  // `recipient` is not authenticated by anything, so it only orders the attempts; every block is tried.
  const ordered = [...keys].sort((a, b) => Number(ours.has(b.recipient)) - Number(ours.has(a.recipient)));
  for (const key of ordered) {
    const dataKey = await tryDecrypt(decrypter, key.enc);
    if (!dataKey) continue;
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw new SopsError('malformed', `the data key for ${key.recipient} is ${dataKey.length} bytes, not ${DATA_KEY_BYTES}`);
    }
    return dataKey;
  }
  const recipients = keys.map((key) => key.recipient).join(', ');
  if (keys.some((key) => ours.has(key.recipient))) {
    throw new SopsError(
      'tampered',
      `the data key block of a matching age recipient does not decrypt (${recipients}): file was modified after encryption`,
    );
  }
  throw new SopsError(
    'no-matching-identity',
    `no age identity matched the file's recipients (${recipients}); the identities given are for ${[...ours].join(', ')}`,
  );
}

async function tryDecrypt(decrypter: Decrypter, enc: string): Promise<Uint8Array | null> {
  try {
    return await decrypter.decrypt(armor.decode(enc));
  } catch {
    return null; // not ours, or a damaged block: the caller reports once all blocks were tried
  }
}

/** The public recipient of an identity: public, so error messages may name it. */
async function toRecipient(identity: string, index: number): Promise<string> {
  try {
    return await identityToRecipient(identity);
  } catch {
    // age's own message could quote the key; say which one instead.
    throw new SopsError('no-identity', `age identity #${index + 1} is not a valid age secret key`);
  }
}
