// Writes small SOPS dotenv files the way sops does (per its aes/cipher.go, sops.go and stores/dotenv), for the
// metadata options no fixture covers (mac_only_encrypted, encrypted_suffix, encrypted comments). The caller says
// which lines sops would have encrypted; the tests then check the reader draws the same line.
import { Encrypter, armor, identityToRecipient } from 'age-encryption';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

export type PlainLine = { key: string; value: string; encrypt: boolean } | { comment: string; encrypt: boolean };

export interface WriteOptions {
  readonly identity: string;
  /** Extra `sops_*` metadata, e.g. { encrypted_regex: '^SECRET_' }. */
  readonly metadata?: Record<string, string>;
  readonly macOnlyEncrypted?: boolean;
}

const LAST_MODIFIED = '2025-01-02T03:04:05Z';
const MAC_ONLY_ENCRYPTED_SEED = '8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69';

function encrypt(plaintext: string, dataKey: Buffer, additionalData: string, type: string): string {
  const iv = randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.from(additionalData));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const parts = [data, iv, cipher.getAuthTag()].map((part) => part.toString('base64'));
  return `ENC[AES256_GCM,data:${parts[0]},iv:${parts[1]},tag:${parts[2]},type:${type}]`;
}

export async function writeSopsDotenv(lines: readonly PlainLine[], options: WriteOptions): Promise<string> {
  const dataKey = randomBytes(32);
  const mac = createHash('sha512');
  if (options.macOnlyEncrypted) mac.update(Buffer.from(MAC_ONLY_ENCRYPTED_SEED, 'hex'));
  const out = lines.map((line) => {
    if ('comment' in line) return `#${line.encrypt ? encrypt(line.comment, dataKey, ':', 'comment') : line.comment}`;
    if (line.encrypt || !options.macOnlyEncrypted) mac.update(line.value);
    return `${line.key}=${line.encrypt ? encrypt(line.value, dataKey, `${line.key}:`, 'str') : line.value}`;
  });
  const encrypter = new Encrypter();
  const recipient = await identityToRecipient(options.identity);
  encrypter.addRecipient(recipient);
  const metadata: Record<string, string> = {
    age__list_0__map_enc: armor.encode(await encrypter.encrypt(dataKey)).replaceAll('\n', '\\n'),
    age__list_0__map_recipient: recipient,
    lastmodified: LAST_MODIFIED,
    mac: encrypt(mac.digest('hex').toUpperCase(), dataKey, LAST_MODIFIED, 'str'),
    ...(options.macOnlyEncrypted ? { mac_only_encrypted: 'true' } : {}),
    ...options.metadata,
    version: '3.10.2',
  };
  const sorted = Object.keys(metadata).sort();
  return [...out, ...sorted.map((key) => `sops_${key}=${metadata[key]}`)].map((line) => `${line}\n`).join('');
}
