// sops's MAC: SHA-512 over the values in tree order (comments excluded), hex upper-case, stored in `sops.mac`
// encrypted with the data key and authenticated with `lastmodified`. It catches edits that each value's own
// authentication cannot: reordering, deleting or adding values, changing unencrypted values.
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { openEncryptedValue, parseEncryptedValue } from './sops-cipher.js';
import { SopsError } from './sops-error.js';
import type { SopsMetadata } from './sops-metadata.js';
import { formatGoFloat, type SopsScalar } from './sops-tree.js';

/** sha256("sops"): seeds the hash when only encrypted values are covered, so the two MAC kinds never coincide. */
const MAC_ONLY_ENCRYPTED_SEED = Buffer.from('8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69', 'hex');

export function createMacHash(macOnlyEncrypted: boolean): Hash {
  const hash = createHash('sha512');
  if (macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_SEED);
  return hash;
}

/** The bytes sops hashes for a plaintext value (Go's ToBytes: booleans title-cased, floats without exponent). */
export function macBytes(value: SopsScalar): Buffer {
  switch (typeof value) {
    case 'string':
      return Buffer.from(value, 'utf8');
    case 'number':
      return Buffer.from(formatGoFloat(value));
    case 'bigint':
      return Buffer.from(value.toString());
    case 'boolean':
      return Buffer.from(value ? 'True' : 'False');
  }
}

const TAMPERED = 'MAC mismatch: file was modified after encryption';

/** Throws SopsError('tampered') unless the stored MAC opens and equals `computedMac`. */
export function verifyMac(metadata: SopsMetadata, computedMac: string, dataKey: Uint8Array): void {
  const stored = parseEncryptedValue(metadata.mac);
  if (!stored) throw new SopsError('tampered', `${TAMPERED} (sops.mac is missing or not an ENC[] value)`);
  const opened = openEncryptedValue(stored, dataKey, metadata.lastModified);
  if (!opened) throw new SopsError('tampered', `${TAMPERED} (sops.mac does not authenticate with sops.lastmodified)`);
  const expected = Buffer.from(computedMac, 'utf8');
  // Constant-time, so a forger learns nothing from how long the comparison took.
  if (opened.length !== expected.length || !timingSafeEqual(opened, expected)) throw new SopsError('tampered', TAMPERED);
}
