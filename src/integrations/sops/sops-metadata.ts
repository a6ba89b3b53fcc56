// The `sops` block, read the way sops's stores read it, whatever the file format it came from.
import { SopsError } from './sops-error.js';

export interface AgeRecipientKey {
  readonly recipient: string;
  /** The data key, age-encrypted to `recipient`, ASCII-armored. */
  readonly enc: string;
}

/** Which leaves sops encrypted. sops allows at most one of the rules; with none, the `_unencrypted` suffix. */
export interface EncryptionRules {
  readonly unencryptedSuffix?: string;
  readonly encryptedSuffix?: string;
  readonly unencryptedRegex?: RegExp;
  readonly encryptedRegex?: RegExp;
  readonly unencryptedCommentRegex?: RegExp;
  readonly encryptedCommentRegex?: RegExp;
  /** The MAC covers only encrypted values (sops ≥ 3.10 `mac_only_encrypted`), else every value. */
  readonly macOnlyEncrypted: boolean;
}

export interface SopsMetadata {
  readonly age: readonly AgeRecipientKey[];
  /** `lastmodified` as sops re-formats it (RFC 3339, whole seconds): the MAC's additional data. */
  readonly lastModified: string;
  readonly mac: string;
  readonly rules: EncryptionRules;
  readonly version?: string;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

export function parseSopsMetadata(raw: unknown): SopsMetadata {
  if (!isRecord(raw)) throw new SopsError('malformed', 'no sops metadata: this is not a SOPS-encrypted file');
  return {
    age: ageKeys(raw),
    lastModified: normalizeLastModified(raw.lastmodified),
    mac: typeof raw.mac === 'string' ? raw.mac : '',
    rules: encryptionRules(raw),
    version: typeof raw.version === 'string' ? raw.version : undefined,
  };
}

function ageKeys(raw: Record<string, unknown>): AgeRecipientKey[] {
  let source: unknown = raw.age;
  const groups = raw.key_groups;
  if (Array.isArray(groups) && groups.length > 0) {
    // Several groups split the data key with Shamir's scheme; one group is just a list of keys.
    if (groups.length > 1) {
      throw new SopsError('unsupported', `the data key is split over ${groups.length} Shamir key groups; not supported`);
    }
    source = isRecord(groups[0]) ? groups[0].age : undefined;
  }
  if (source !== undefined && source !== null && !Array.isArray(source)) {
    throw new SopsError('malformed', 'sops.age is not a list');
  }
  const keys = Array.from(source ?? [], (item: unknown, index) => {
    if (!isRecord(item) || typeof item.recipient !== 'string' || typeof item.enc !== 'string') {
      throw new SopsError('malformed', `sops.age[${index}] needs a recipient and an enc string`);
    }
    return { recipient: item.recipient, enc: item.enc };
  });
  if (keys.length === 0) {
    throw new SopsError('unsupported', 'the data key is not encrypted to any age recipient (only age is supported)');
  }
  return keys;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** sops parses lastmodified and formats it back (Go's time.RFC3339) before using it to authenticate the MAC. */
function normalizeLastModified(value: unknown): string {
  const match = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!match) throw new SopsError('malformed', 'sops.lastmodified is not an RFC 3339 timestamp');
  const [, dateTime, zone] = match as unknown as [string, string, string];
  return dateTime + (zone === '+00:00' || zone === '-00:00' ? 'Z' : zone);
}

function encryptionRules(raw: Record<string, unknown>): EncryptionRules {
  const text = (name: string) => (typeof raw[name] === 'string' && raw[name] !== '' ? (raw[name] as string) : undefined);
  const rules = {
    unencryptedSuffix: text('unencrypted_suffix'),
    encryptedSuffix: text('encrypted_suffix'),
    unencryptedRegex: text('unencrypted_regex'),
    encryptedRegex: text('encrypted_regex'),
    unencryptedCommentRegex: text('unencrypted_comment_regex'),
    encryptedCommentRegex: text('encrypted_comment_regex'),
  };
  const set = Object.entries(rules).filter(([, value]) => value !== undefined);
  if (set.length > 1) {
    throw new SopsError('malformed', `sops metadata sets more than one encryption rule (${set.map(([k]) => k).join(', ')})`);
  }
  const macOnlyEncrypted = raw.mac_only_encrypted === true || raw.mac_only_encrypted === 'true';
  return {
    unencryptedSuffix: set.length === 0 ? DEFAULT_UNENCRYPTED_SUFFIX : rules.unencryptedSuffix,
    encryptedSuffix: rules.encryptedSuffix,
    unencryptedRegex: goRegExp(rules.unencryptedRegex, 'unencrypted_regex'),
    encryptedRegex: goRegExp(rules.encryptedRegex, 'encrypted_regex'),
    unencryptedCommentRegex: goRegExp(rules.unencryptedCommentRegex, 'unencrypted_comment_regex'),
    encryptedCommentRegex: goRegExp(rules.encryptedCommentRegex, 'encrypted_comment_regex'),
    macOnlyEncrypted,
  };
}

/**
 * A Go (RE2) pattern as a JS RegExp. The common subset is the same syntax; leading inline flags such as `(?i)`,
 * which JS lacks, become RegExp flags. Like Go's regexp.Match, the pattern matches anywhere unless anchored.
 */
function goRegExp(pattern: string | undefined, field: string): RegExp | undefined {
  if (pattern === undefined) return undefined;
  const flagGroup = /^\(\?([imsU]+)\)/.exec(pattern);
  const flags = flagGroup?.[1] ?? '';
  if (flags.includes('U')) throw new SopsError('unsupported', `sops.${field} uses the (?U) flag; not supported`);
  try {
    return new RegExp(pattern.slice(flagGroup?.[0].length ?? 0), flags);
  } catch (err) {
    throw new SopsError('malformed', `sops.${field} is not a valid regular expression`, { cause: err });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
