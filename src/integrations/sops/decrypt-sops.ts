// Decrypts files written by SOPS (getsops/sops) for age recipients: YAML, JSON and dotenv. Every value is
// authenticated with its path, and the MAC over the whole tree must match, or nothing is returned.
import { readFile as fsReadFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { inspect } from 'node:util';
import { decryptDataKey } from './data-key.js';
import { decryptTree } from './decrypt-tree.js';
import { parseSopsDotenv } from './dotenv-format.js';
import { parseSopsJson } from './json-format.js';
import { SopsError } from './sops-error.js';
import type { ParsedSopsFile, SopsFormat } from './sops-file.js';
import { verifyMac } from './sops-mac.js';
import { parseSopsMetadata } from './sops-metadata.js';
import { toPlainObject } from './sops-tree.js';
import { parseSopsYaml } from './yaml-format.js';

export type { SopsFormat } from './sops-file.js';

export interface SopsDocument {
  readonly format: SopsFormat;
  /** The decrypted data, without the `sops` block (for multi-document YAML, the first document). */
  readonly data: Record<string, unknown>;
  /** Every document of a multi-document YAML file; `[data]` otherwise. */
  readonly documents: readonly Record<string, unknown>[];
  /** The decrypted file in its own format, comments included: what `renderDecrypted` returns. */
  readonly text: string;
}

const readers: Record<SopsFormat, (text: string) => ParsedSopsFile> = {
  yaml: parseSopsYaml,
  json: parseSopsJson,
  dotenv: parseSopsDotenv,
};

/**
 * Decrypts SOPS `text` with any of the age `identities` (AGE-SECRET-KEY-1… strings, see loadAgeIdentities).
 * Throws SopsError: `tampered` when a value or the MAC does not authenticate, `no-matching-identity` when no
 * identity opens the data key, `malformed`/`unsupported`/`no-identity` otherwise. Messages hold no plaintext.
 */
export async function decryptSops(text: string, format: SopsFormat, identities: readonly string[]): Promise<SopsDocument> {
  const parsed = readers[format](text);
  const metadata = parseSopsMetadata(parsed.metadata);
  const dataKey = await decryptDataKey(metadata.age, identities);
  const tree = decryptTree(parsed.branches, metadata.rules, dataKey);
  verifyMac(metadata, tree.mac, dataKey);
  const documents = tree.branches.map(toPlainObject);
  return redacted({ format, data: documents[0] ?? {}, documents, text: parsed.render(tree.branches) });
}

/** Reads and decrypts a file; the format comes from its name (.yaml/.yml, .json, .env) unless given. */
export async function decryptSopsFile(
  path: string,
  identities: readonly string[],
  options: { format?: SopsFormat; readFile?: (path: string) => Promise<string> } = {},
): Promise<SopsDocument> {
  const format = options.format ?? formatFromName(path);
  const text = await (options.readFile ?? ((file: string) => fsReadFile(file, 'utf8')))(path);
  try {
    return await decryptSops(text, format, identities);
  } catch (err) {
    if (err instanceof SopsError) throw new SopsError(err.code, `${path}: ${err.message}`, { cause: err.cause });
    throw err;
  }
}

/** The decrypted file in its own format (what `sops -d` prints), for `norn secrets decrypt FILE`. */
export function renderDecrypted(doc: SopsDocument): string {
  return doc.text;
}

export function formatFromName(path: string): SopsFormat {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  if (name.endsWith('.json')) return 'json';
  if (name === '.env' || name.endsWith('.env')) return 'dotenv';
  throw new SopsError('unsupported', `${path}: cannot tell the SOPS format from the file name (.yaml, .yml, .json, .env)`);
}

/** Logging or serialising the whole document shows no secret; its fields are still plain data. */
function redacted(doc: SopsDocument): SopsDocument {
  const summary = () => ({ format: doc.format, keys: Object.keys(doc.data).length, redacted: true });
  return Object.defineProperties(doc, {
    toJSON: { value: summary, enumerable: false },
    [inspect.custom]: { value: () => `SopsDocument ${JSON.stringify(summary())}`, enumerable: false },
  });
}
