// `.sops.yaml`, read the way sops reads it to create a file: the first creation rule whose `path_regex` matches
// the file's path relative to the config's dir (a rule without one matches every file), and from it the age
// recipients (`age`: a comma-separated string or a list; or one `key_groups` entry) and the encryption rule.
import { parse } from 'yaml';
import { SopsError } from './sops-error.js';

/** The encryption rules a creation rule may set; sops allows one at most (none: `unencrypted_suffix: _unencrypted`). */
export const RULE_FIELDS = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex'] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

export interface CreationRule {
  /** age1… recipients, in the order given. */
  readonly recipients: readonly string[];
  /** The one encryption rule, when the rule sets one. */
  readonly rule?: { readonly field: RuleField; readonly value: string };
  readonly macOnlyEncrypted: boolean;
}

const OTHER_KEY_TYPES = ['pgp', 'kms', 'gcp_kms', 'hckms', 'azure_keyvault', 'hc_vault_transit_uri'];

/**
 * The rule for `relativePath` (the file's path from the config's dir, '/'-separated), or undefined when the file
 * has no creation rules at all. Throws SopsError: `malformed` for YAML or fields sops would refuse too,
 * `unsupported` for rules that need other key types or Shamir groups; `malformed` too when no rule matches.
 */
export function creationRuleFor(configText: string, relativePath: string): CreationRule | undefined {
  let config: unknown;
  try {
    config = parse(configText);
  } catch (err) {
    throw new SopsError('malformed', `.sops.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const rules = isRecord(config) ? config.creation_rules : undefined;
  if (rules === undefined || rules === null) return undefined;
  if (!Array.isArray(rules)) throw new SopsError('malformed', '.sops.yaml: creation_rules is not a list');
  const index = rules.findIndex((rule, i) => matches(rule, i, relativePath));
  if (index < 0) throw new SopsError('malformed', `.sops.yaml: no creation rule matches ${relativePath}`);
  return toCreationRule(rules[index] as Record<string, unknown>, index);
}

function matches(rule: unknown, index: number, relativePath: string): boolean {
  if (!isRecord(rule)) throw new SopsError('malformed', `.sops.yaml: creation_rules[${index}] is not a map`);
  const pattern = rule.path_regex;
  if (pattern === undefined || pattern === null || pattern === '') return true;
  if (typeof pattern !== 'string') throw new SopsError('malformed', `.sops.yaml: creation_rules[${index}].path_regex is not a string`);
  try {
    return new RegExp(pattern).test(relativePath);
  } catch {
    throw new SopsError('malformed', `.sops.yaml: creation_rules[${index}].path_regex is not a valid regular expression`);
  }
}

function toCreationRule(rule: Record<string, unknown>, index: number): CreationRule {
  const where = `.sops.yaml: creation_rules[${index}]`;
  const others = OTHER_KEY_TYPES.filter((field) => keyList(rule[field], `${where}.${field}`).length > 0);
  let ageField = rule.age;
  if (Array.isArray(rule.key_groups) && rule.key_groups.length > 0) {
    if (rule.key_groups.length > 1) throw new SopsError('unsupported', `${where} splits the data key over ${rule.key_groups.length} key groups; create this file with sops`);
    const group = rule.key_groups[0];
    if (!isRecord(group)) throw new SopsError('malformed', `${where}.key_groups[0] is not a map`);
    others.push(...OTHER_KEY_TYPES.filter((field) => Array.isArray(group[field]) && group[field].length > 0));
    ageField = group.age;
  }
  if (others.length > 0) throw new SopsError('unsupported', `${where} also encrypts to ${others.join(', ')} keys; norn encrypts to age only, so create this file with sops`);
  const recipients = keyList(ageField, `${where}.age`);
  if (recipients.length === 0) throw new SopsError('unsupported', `${where} names no age recipient`);
  for (const recipient of recipients) {
    if (!/^age1[0-9a-z]+$/.test(recipient)) throw new SopsError('malformed', `${where}.age: ${recipient.slice(0, 80)} is not an age recipient (age1…)`);
  }
  const set = RULE_FIELDS.filter((field) => typeof rule[field] === 'string' && rule[field] !== '');
  if (set.length > 1) throw new SopsError('malformed', `${where} sets more than one encryption rule (${set.join(', ')})`);
  const field = set[0];
  return {
    recipients,
    rule: field ? { field, value: rule[field] as string } : undefined,
    macOnlyEncrypted: rule.mac_only_encrypted === true,
  };
}

/** sops's key fields: a comma-separated string or a list of strings. */
function keyList(field: unknown, where: string): string[] {
  if (field === undefined || field === null || field === '') return [];
  if (typeof field === 'string') return field.split(',').map((key) => key.trim()).filter(Boolean);
  if (Array.isArray(field) && field.every((key) => typeof key === 'string')) return field.map((key: string) => key.trim()).filter(Boolean);
  throw new SopsError('malformed', `${where} is neither a string nor a list of strings`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
