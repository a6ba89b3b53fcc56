// SOPS YAML files, one branch per document. Decrypted output keeps the file's own layout: values and encrypted
// comments are replaced in the parsed document, and the `sops` block is removed.
import { isAlias, isMap, isNode, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { SopsError } from './sops-error.js';
import type { ParsedSopsFile } from './sops-file.js';
import type { SopsComment, SopsEntry, SopsLeaf, SopsList, SopsMap, SopsNode } from './sops-tree.js';

/** Where a comment line came from: a node's `commentBefore` or `comment`, split on newlines. */
interface CommentOrigin {
  readonly holder: CommentHolder;
  readonly field: 'commentBefore' | 'comment';
  readonly line: number;
}
interface CommentHolder {
  commentBefore?: string | null;
  comment?: string | null;
}

export function parseSopsYaml(text: string): ParsedSopsFile {
  const documents = Array.from(parseAllDocuments(text));
  for (const doc of documents) {
    const error = doc.errors[0];
    // The first line of yaml's message names the problem and position; the rest would quote the file.
    if (error) throw new SopsError('malformed', `invalid YAML: ${error.message.split('\n')[0]}`);
  }
  return {
    branches: documents.map(documentToTree),
    metadata: metadataOf(documents[0]),
    render: (decrypted) => {
      decrypted.forEach(applyToSource);
      documents.forEach(removeSopsBlock);
      return documents.map((doc) => doc.toString()).join('');
    },
  };
}

/** sops reads its metadata from the first document only. */
function metadataOf(doc: Document | undefined): unknown {
  if (!doc || !isMap(doc.contents)) return undefined;
  const node = doc.contents.get('sops', true);
  return isNode(node) ? node.toJS(doc) : node;
}

function documentToTree(doc: Document): SopsMap {
  const contents = doc.contents;
  if (contents !== null && !isMap(contents)) {
    const isNull = isScalar(contents) && contents.value === null;
    if (!isNull) throw new SopsError('unsupported', 'a SOPS YAML document must be a map at the top');
  }
  const items = isMap(contents) ? mapToTree(contents, [], true).items : [];
  return {
    kind: 'map',
    items: [...comments(doc, 'commentBefore'), ...items.filter((item) => !isSopsEntry(item)), ...comments(doc, 'comment')],
  };
}

function isSopsEntry(item: SopsEntry | SopsComment): boolean {
  return item.kind === 'entry' && item.key === 'sops';
}

/** `ownComments`: whether the collection's own comments belong inside it (true unless it is a list item). */
function mapToTree(map: YAMLMap, path: string[], ownComments: boolean): SopsMap {
  const items: (SopsEntry | SopsComment)[] = ownComments ? comments(map, 'commentBefore') : [];
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string') {
      throw new SopsError('unsupported', `a key under '${path.join(':')}:' is not a string; sops supports string keys only`);
    }
    items.push(...comments(key, 'commentBefore'), ...comments(key, 'comment'));
    const valuePath = [...path, key.value];
    if (pair.value === null || isScalar(pair.value)) {
      // sops puts a scalar's own comments before its entry.
      if (pair.value) items.push(...comments(pair.value, 'commentBefore'), ...comments(pair.value, 'comment'));
      items.push({ kind: 'entry', key: key.value, value: scalarToLeaf(pair.value, valuePath) });
    } else {
      items.push({ kind: 'entry', key: key.value, value: collectionToTree(pair.value, valuePath, true) });
    }
  }
  if (ownComments) items.push(...comments(map, 'comment'));
  return { kind: 'map', items };
}

function seqToTree(seq: YAMLSeq, path: string[], ownComments: boolean): SopsList {
  const items: (SopsNode | SopsComment)[] = ownComments ? comments(seq, 'commentBefore') : [];
  for (const item of seq.items) {
    if (item === null || isScalar(item)) {
      if (item) items.push(...comments(item, 'commentBefore'), ...comments(item, 'comment'));
      items.push(scalarToLeaf(item, path));
    } else {
      const holder = item as CommentHolder;
      items.push(...comments(holder, 'commentBefore'), collectionToTree(item, path, false), ...comments(holder, 'comment'));
    }
  }
  if (ownComments) items.push(...comments(seq, 'comment'));
  return { kind: 'list', items };
}

function collectionToTree(node: unknown, path: string[], ownComments: boolean): SopsNode {
  if (isMap(node)) return mapToTree(node, path, ownComments);
  if (isSeq(node)) return seqToTree(node, path, ownComments);
  if (isAlias(node)) throw new SopsError('unsupported', `'${path.join(':')}:' is a YAML alias; not supported in SOPS files`);
  throw new SopsError('unsupported', `'${path.join(':')}:' holds a YAML node sops cannot read`);
}

function scalarToLeaf(scalar: Scalar | null, path: string[]): SopsLeaf {
  const value = scalar?.value ?? null;
  if (value === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof value)) {
    return { kind: 'leaf', value: value as SopsLeaf['value'], origin: scalar ?? undefined };
  }
  throw new SopsError('unsupported', `value at '${path.join(':')}:' has a YAML type sops cannot read`);
}

/** Each non-empty line of a node's comment, without its `#`, as sops splits them. */
function comments(holder: CommentHolder, field: CommentOrigin['field']): SopsComment[] {
  const text = holder[field];
  if (!text) return [];
  return text.split('\n').flatMap((line, index) =>
    line === '' ? [] : [{ kind: 'comment' as const, text: line, origin: { holder, field, line: index } satisfies CommentOrigin }],
  );
}

/** Writes decrypted values and comments back into the parsed documents they came from. */
function applyToSource(node: SopsNode | SopsEntry | SopsComment): void {
  if (node.kind === 'entry') return applyToSource(node.value);
  if (node.kind === 'map' || node.kind === 'list') return node.items.forEach(applyToSource);
  if (node.kind === 'comment') {
    const { holder, field, line } = node.origin as CommentOrigin;
    const lines = (holder[field] ?? '').split('\n');
    if (lines[line] === node.text) return;
    lines[line] = node.text;
    holder[field] = lines.join('\n');
    return;
  }
  const scalar = node.origin as Scalar | undefined;
  if (!scalar || scalar.value === node.value) return;
  scalar.value = node.value;
  scalar.type = undefined; // let the writer pick a style that fits the plaintext (quoted, block, plain)
}

function removeSopsBlock(doc: Document): void {
  const contents = doc.contents;
  if (!isMap(contents)) return;
  const index = contents.items.findIndex((pair) => isScalar(pair.key) && pair.key.value === 'sops');
  if (index < 0) return;
  const [pair] = contents.items.splice(index, 1);
  // A comment written above `sops:` ends up trailing the data instead of disappearing with the block.
  const above = isScalar(pair?.key) ? pair.key.commentBefore : undefined;
  if (above) contents.comment = contents.comment ? `${contents.comment}\n${above}` : above;
}
