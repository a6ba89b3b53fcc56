// A new SOPS YAML file with no values yet, laid out as sops 3.9+ writes one: a fresh 32-byte data key, age-encrypted
// to each recipient of the creation rule separately (as sops does, one age file per recipient), the rule in the
// metadata, and the MAC of an empty tree. editSopsYaml then adds the first value to it like to any other file.
import { randomBytes } from 'node:crypto';
import { Encrypter, armor } from 'age-encryption';
import { stringify } from 'yaml';
import { sealString } from './sops-cipher.js';
import type { CreationRule } from './sops-config.js';
import { createMacHash } from './sops-mac.js';
import { DEFAULT_UNENCRYPTED_SUFFIX } from './sops-metadata.js';

/**
 * The sops release whose layout this follows. sops reads `version` only to decide on an old KMS workaround, but it
 * must parse as a version, so a file without one would not open.
 */
export const SOPS_LAYOUT_VERSION = '3.9.0';

const INDENT = '    '; // sops's YAML indent

export async function emptySopsYaml(rule: CreationRule, now: Date): Promise<string> {
  const dataKey = randomBytes(32);
  const lastModified = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const mac = sealString(createMacHash(rule.macOnlyEncrypted).digest('hex').toUpperCase(), dataKey, lastModified);
  const ageBlocks = await Promise.all(rule.recipients.map(async (recipient) => {
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    const armored = armor.encode(await encrypter.encrypt(dataKey)).trimEnd();
    const body = armored.split('\n').map((line) => `${INDENT.repeat(3)}${line}\n`).join('');
    return `${INDENT}${INDENT}- recipient: ${recipient}\n${INDENT}${INDENT}  enc: |\n${body}`;
  }));
  const { field, value } = rule.rule ?? { field: 'unencrypted_suffix', value: DEFAULT_UNENCRYPTED_SUFFIX };
  return [
    'sops:\n',
    `${INDENT}age:\n`,
    ...ageBlocks,
    `${INDENT}lastmodified: "${lastModified}"\n`,
    `${INDENT}mac: ${mac}\n`,
    `${INDENT}${field}: ${stringify(value).trimEnd()}\n`,
    ...(rule.macOnlyEncrypted ? [`${INDENT}mac_only_encrypted: true\n`] : []),
    `${INDENT}version: ${SOPS_LAYOUT_VERSION}\n`,
  ].join('');
}
