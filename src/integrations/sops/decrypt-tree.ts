// Walks the tree the way sops does: decides per leaf whether sops encrypted it, decrypts it with its path as
// additional data, and hashes every value (or only the encrypted ones) into the MAC, in order.
import { openEncryptedValue, parseEncryptedValue, toTypedValue } from './sops-cipher.js';
import { SopsError } from './sops-error.js';
import { createMacHash, macBytes } from './sops-mac.js';
import type { EncryptionRules } from './sops-metadata.js';
import type { SopsComment, SopsEntry, SopsLeaf, SopsMap, SopsNode } from './sops-tree.js';

export interface DecryptedTree {
  readonly branches: SopsMap[];
  /** The MAC computed over the plaintext, to compare with the stored one. */
  readonly mac: string;
}

const MODIFIED = 'file was modified after encryption';

/** Comments seen since the last value, one list per nesting level (sops's "comments stack"). */
type CommentsStack = readonly string[][];

export function decryptTree(branches: readonly SopsMap[], rules: EncryptionRules, dataKey: Uint8Array): DecryptedTree {
  const hash = createMacHash(rules.macOnlyEncrypted);
  const containerPaths = branches.flatMap((branch) => collectPaths(branch, []));

  const walkNode = (node: SopsNode, path: string[], stack: CommentsStack): SopsNode => {
    switch (node.kind) {
      case 'leaf':
        return visitLeaf(node, path, stack);
      case 'list':
        return { kind: 'list', items: walkItems(node.items, path, stack, (item, inner) => walkNode(item, path, inner)) };
      case 'map':
        return {
          kind: 'map',
          items: walkItems(node.items, path, stack, (entry, inner) => ({
            ...entry,
            value: walkNode(entry.value, [...path, entry.key], inner),
          })),
        };
    }
  };

  // A comment joins the comments of its level and a value clears them, as in sops's walkBranch/walkSlice.
  const walkItems = <T extends SopsNode | SopsEntry>(
    items: readonly (T | SopsComment)[],
    path: string[],
    stack: CommentsStack,
    walk: (item: T, inner: CommentsStack) => T,
  ): (T | SopsComment)[] => {
    const level: string[] = [];
    const inner = [...stack, level];
    return items.map((item) => {
      if (item.kind === 'comment') {
        level.push(item.text);
        return visitComment(item, path);
      }
      const result = walk(item as T, inner);
      level.length = 0;
      return result;
    });
  };

  const visitLeaf = (leaf: SopsLeaf, path: string[], stack: CommentsStack): SopsLeaf => {
    if (leaf.value === null) return leaf; // sops neither encrypts nor hashes nulls
    const where = additionalData(path);
    if (!shouldBeEncrypted(rules, path, stack)) {
      if (!rules.macOnlyEncrypted) hash.update(macBytes(leaf.value));
      return leaf;
    }
    if (leaf.value === '') return leaf; // sops leaves empty strings as they are
    const encrypted = typeof leaf.value === 'string' ? parseEncryptedValue(leaf.value) : undefined;
    if (!encrypted) {
      throw new SopsError('tampered', `value at '${where}' should be encrypted but is not an ENC[] value: ${MODIFIED}`);
    }
    const plaintext = openEncryptedValue(encrypted, dataKey, where);
    if (!plaintext) {
      throw new SopsError('tampered', `value at '${where}' fails authentication: ${MODIFIED}, or the value was moved`);
    }
    const typed = toTypedValue(encrypted.type, plaintext, where);
    hash.update(typed.macBytes);
    return { ...leaf, value: typed.value };
  };

  // Comments are outside the MAC, so any ENC[] comment that opens is shown decrypted, whatever the rules say, and
  // one that opens nowhere stays as it is (sops keeps it too). YAML parsers attach comments to different nodes
  // than sops's parser does, so after the comment's own path every other path of the file is tried.
  const visitComment = (comment: SopsComment, path: string[]): SopsComment => {
    const encrypted = parseEncryptedValue(comment.text);
    if (!encrypted) return comment;
    const own = additionalData(path);
    for (const candidate of [own, ...containerPaths.filter((p) => p !== own)]) {
      const plaintext = openEncryptedValue(encrypted, dataKey, candidate);
      if (plaintext) return { ...comment, text: plaintext.toString('utf8') };
    }
    return comment;
  };

  const decrypted = branches.map((branch) => walkNode(branch, [], []) as SopsMap);
  return { branches: decrypted, mac: hash.digest('hex').toUpperCase() };
}

/** The additional data of a value: its key path joined with ':' plus a trailing ':' (list items add nothing). */
function additionalData(path: readonly string[]): string {
  return `${path.join(':')}:`;
}

/** sops's rule for which values it encrypted: by key suffix or regex along the path, or by preceding comments. */
function shouldBeEncrypted(rules: EncryptionRules, path: string[], stack: CommentsStack): boolean {
  let encrypted = true;
  const { unencryptedSuffix, encryptedSuffix, unencryptedRegex, encryptedRegex } = rules;
  if (unencryptedSuffix && path.some((key) => key.endsWith(unencryptedSuffix))) encrypted = false;
  if (encryptedSuffix) encrypted = path.some((key) => key.endsWith(encryptedSuffix));
  if (unencryptedRegex && path.some((key) => unencryptedRegex.test(key))) encrypted = false;
  if (encryptedRegex) encrypted = path.some((key) => encryptedRegex.test(key));
  const commented = (regex: RegExp) => stack.some((level) => level.some((text) => regex.test(text)));
  if (rules.unencryptedCommentRegex && commented(rules.unencryptedCommentRegex)) encrypted = false;
  if (rules.encryptedCommentRegex) encrypted = commented(rules.encryptedCommentRegex);
  return encrypted;
}

function collectPaths(node: SopsNode, path: string[]): string[] {
  if (node.kind === 'leaf') return [];
  const nested = node.items.flatMap((item) => {
    if (item.kind === 'comment') return [];
    if (item.kind === 'entry') return collectPaths(item.value, [...path, item.key]);
    return collectPaths(item, path);
  });
  return [...new Set([additionalData(path), ...nested])];
}
