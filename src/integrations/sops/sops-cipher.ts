// Values as sops writes them: ENC[AES256_GCM,data:…,iv:…,tag:…,type:…], AES-256-GCM under the file's data key,
// authenticated with the value's path as additional data. IV length is taken as found (sops uses 32 bytes).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SopsError } from './sops-error.js';
import { formatGoFloat, type SopsScalar } from './sops-tree.js';

const BASE64 = '(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?';
const ENC_VALUE = new RegExp(`^ENC\\[AES256_GCM,data:(${BASE64}),iv:(${BASE64}),tag:(${BASE64}),type:(\\w+)\\]$`);
const TAG_BYTES = 16;
/** sops's nonce size; GCM accepts any length, and sops reads whatever a file holds. */
const IV_BYTES = 32;

export interface EncryptedValue {
  readonly data: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly type: string;
}

/** The parts of an ENC[] string, or undefined when the text is not one. */
export function parseEncryptedValue(text: string): EncryptedValue | undefined {
  const match = ENC_VALUE.exec(text);
  if (!match) return undefined;
  const [, data, iv, tag, type] = match as unknown as [string, string, string, string, string];
  const parts = { data: Buffer.from(data, 'base64'), iv: Buffer.from(iv, 'base64'), tag: Buffer.from(tag, 'base64') };
  if (parts.iv.length === 0 || parts.tag.length !== TAG_BYTES) return undefined;
  return { ...parts, type };
}

/** The plaintext bytes, or null when authentication fails (wrong key, wrong path, or altered ciphertext). */
export function openEncryptedValue(value: EncryptedValue, dataKey: Uint8Array, additionalData: string): Buffer | null {
  const decipher = createDecipheriv('aes-256-gcm', dataKey, value.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(additionalData, 'utf8'));
  decipher.setAuthTag(value.tag);
  try {
    return Buffer.concat([decipher.update(value.data), decipher.final()]);
  } catch {
    return null;
  }
}

/**
 * A string sealed as sops seals it: a fresh random IV, AES-256-GCM under the data key, `additionalData` (the value's
 * path, or `lastmodified` for the MAC) authenticated, written as `ENC[…,type:str]`. sops leaves '' unencrypted, and
 * so must the caller: an empty plaintext is refused here rather than sealed into something sops would not write.
 */
export function sealString(plaintext: string, dataKey: Uint8Array, additionalData: string): string {
  if (plaintext === '') throw new SopsError('unsupported', `value at '${additionalData}' is empty; sops stores '' unencrypted`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(additionalData, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const parts = [data, iv, cipher.getAuthTag()].map((bytes) => bytes.toString('base64'));
  return `ENC[AES256_GCM,data:${parts[0]},iv:${parts[1]},tag:${parts[2]},type:str]`;
}

/** A decrypted value converted the way sops converts it, with the bytes sops feeds to the MAC for it. */
export interface TypedValue {
  readonly value: SopsScalar;
  readonly macBytes: Buffer;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Converts decrypted bytes by the ENC[] `type`, following Go's strconv rules (Atoi, ParseFloat, ParseBool).
 * `where` names the value's path for errors; the plaintext itself never appears in one.
 */
export function toTypedValue(type: string, plaintext: Buffer, where: string): TypedValue {
  const text = plaintext.toString('utf8');
  const invalid = (what: string) => new SopsError('malformed', `value at '${where}' has type ${type} but is not ${what}`);
  switch (type) {
    case 'str':
    case 'bytes':
      return { value: text, macBytes: plaintext };
    case 'int':
    case 'int64': {
      if (!/^[+-]?\d+$/.test(text)) throw invalid('an integer');
      const big = BigInt(text.replace(/^\+/, ''));
      if (big < INT64_MIN || big > INT64_MAX) throw invalid('a 64-bit integer');
      const value = Number.isSafeInteger(Number(big)) ? Number(big) : big;
      return { value, macBytes: Buffer.from(big.toString()) };
    }
    case 'float': {
      const value = parseGoFloat(text);
      if (value === undefined) throw invalid('a number');
      return { value, macBytes: Buffer.from(formatGoFloat(value)) };
    }
    case 'bool': {
      const value = parseGoBool(text);
      if (value === undefined) throw invalid('a boolean');
      return { value, macBytes: Buffer.from(value ? 'True' : 'False') };
    }
    default:
      throw new SopsError('malformed', `value at '${where}' has unknown type '${type}'`);
  }
}

function parseGoFloat(text: string): number | undefined {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?inf(?:inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return undefined;
}

function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
