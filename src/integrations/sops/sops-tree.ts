// The ordered tree every format is read into, mirroring sops's own TreeBranch model: maps keep their key order
// (the MAC covers order), comments are items of the map or list that holds them, list items add nothing to a
// value's path. `origin` lets a format's renderer find the source node again; the walker copies it through.

export type SopsScalar = string | number | bigint | boolean;

export interface SopsLeaf {
  readonly kind: 'leaf';
  readonly value: SopsScalar | null;
  readonly origin?: unknown;
}

/** One comment line, without its leading `#`. */
export interface SopsComment {
  readonly kind: 'comment';
  readonly text: string;
  readonly origin?: unknown;
}

export interface SopsEntry {
  readonly kind: 'entry';
  readonly key: string;
  readonly value: SopsNode;
}

export interface SopsMap {
  readonly kind: 'map';
  readonly items: readonly (SopsEntry | SopsComment)[];
}

export interface SopsList {
  readonly kind: 'list';
  readonly items: readonly (SopsNode | SopsComment)[];
}

export type SopsNode = SopsLeaf | SopsMap | SopsList;

/** The tree as plain data: objects, arrays and scalars, comments dropped. */
export function toPlain(node: SopsNode): unknown {
  switch (node.kind) {
    case 'leaf':
      return node.value;
    case 'list':
      return node.items.filter((item) => item.kind !== 'comment').map((item) => toPlain(item as SopsNode));
    case 'map':
      return toPlainObject(node);
  }
}

/** fromEntries defines own properties, so a key such as `__proto__` stays data. */
export function toPlainObject(map: SopsMap): Record<string, unknown> {
  const entries = map.items.filter((item): item is SopsEntry => item.kind === 'entry');
  return Object.fromEntries(entries.map((entry) => [entry.key, toPlain(entry.value)]));
}

/**
 * A number as Go's strconv.FormatFloat(x, 'f', -1, 64) writes it: shortest round-trip digits, never an
 * exponent. sops hashes numbers this way for the MAC, and prints decrypted floats the same way.
 */
export function formatGoFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (Object.is(x, -0)) return '-0';
  const text = String(x);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, head, tail = '', exp] = match as unknown as [string, string, string, string | undefined, string];
  const digits = head + tail;
  const point = 1 + Number(exp); // position of the decimal point within `digits`
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
