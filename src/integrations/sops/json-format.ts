// SOPS JSON files. JSON.parse cannot be used: JS objects move integer-like keys first, and the MAC covers the
// order the keys have in the file. Output is indented with tabs, like `sops -d`.
import { SopsError } from './sops-error.js';
import type { ParsedSopsFile } from './sops-file.js';
import { toPlain, type SopsEntry, type SopsMap, type SopsNode } from './sops-tree.js';

export function parseSopsJson(text: string): ParsedSopsFile {
  const root = parseOrderedJson(text);
  if (root.kind !== 'map') throw new SopsError('malformed', 'a SOPS JSON file must hold an object at the top');
  const entries = root.items as SopsEntry[];
  const sops = entries.find((entry) => entry.key === 'sops');
  return {
    branches: [{ kind: 'map', items: entries.filter((entry) => entry.key !== 'sops') }],
    metadata: sops ? toPlain(sops.value) : undefined,
    render: (decrypted) => `${renderJson(decrypted[0] ?? { kind: 'map', items: [] }, '')}\n`,
  };
}

function renderJson(node: SopsNode, indent: string): string {
  const inner = `${indent}\t`;
  const block = (open: string, close: string, lines: string[]) =>
    lines.length === 0 ? open + close : `${open}\n${lines.map((line) => inner + line).join(',\n')}\n${indent}${close}`;
  switch (node.kind) {
    case 'map':
      return block('{', '}', entriesOf(node).map((entry) => `${JSON.stringify(entry.key)}: ${renderJson(entry.value, inner)}`));
    case 'list':
      return block('[', ']', node.items.flatMap((item) => (item.kind === 'comment' ? [] : [renderJson(item, inner)])));
    case 'leaf':
      return typeof node.value === 'bigint' ? node.value.toString() : JSON.stringify(node.value);
  }
}

function entriesOf(map: SopsMap): SopsEntry[] {
  return map.items.filter((item): item is SopsEntry => item.kind === 'entry');
}

// JSON.parse then checks the escapes and refuses raw control characters.
const STRING = /"(?:[^"\\]|\\.)*"/y;
const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SPACE = /[ \t\n\r]*/y;

/** A strict JSON parser that keeps object members in file order (duplicates included, as Go's decoder does). */
export function parseOrderedJson(text: string): SopsNode {
  let pos = 0;
  const fail = (what: string) => new SopsError('malformed', `invalid JSON at offset ${pos}: ${what}`);
  const take = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = pos;
    const match = pattern.exec(text);
    if (match) pos = pattern.lastIndex;
    return match?.[0];
  };
  const skipSpace = () => take(SPACE);
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) throw fail(`expected '${char}'`);
    pos++;
  };
  const string = (): string => {
    skipSpace();
    const token = take(STRING);
    if (token === undefined) throw fail('expected a string');
    try {
      return JSON.parse(token) as string;
    } catch {
      throw fail('bad string');
    }
  };
  // `close` ends the collection; `item` reads one member. Handles empty collections and separating commas.
  const members = <T>(close: string, item: () => T): T[] => {
    const items: T[] = [];
    skipSpace();
    if (text[pos] === close) {
      pos++;
      return items;
    }
    for (;;) {
      items.push(item());
      skipSpace();
      const next = text[pos++];
      if (next === close) return items;
      if (next !== ',') throw fail(`expected ',' or '${close}'`);
    }
  };
  const value = (): SopsNode => {
    skipSpace();
    const first = text[pos];
    if (first === '{') {
      pos++;
      return {
        kind: 'map',
        items: members('}', () => {
          const key = string();
          expect(':');
          return { kind: 'entry', key, value: value() } satisfies SopsEntry;
        }),
      };
    }
    if (first === '[') {
      pos++;
      return { kind: 'list', items: members(']', value) };
    }
    if (first === '"') return { kind: 'leaf', value: string() };
    const literal = take(LITERAL);
    if (literal === undefined) throw fail('expected a value');
    const constants: Record<string, boolean | null> = { true: true, false: false, null: null };
    return { kind: 'leaf', value: literal in constants ? constants[literal]! : Number(literal) };
  };
  const root = value();
  skipSpace();
  if (pos !== text.length) throw fail('unexpected text after the value');
  return root;
}
