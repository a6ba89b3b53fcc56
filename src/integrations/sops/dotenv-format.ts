// SOPS dotenv files, read as sops reads them: one KEY=value per line, `#` lines are comments, a literal `\n` in a
// value is a newline, and the metadata is flattened into `sops_*` keys (`sops_age__list_0__map_enc`).
import { SopsError } from './sops-error.js';
import type { ParsedSopsFile } from './sops-file.js';
import { formatGoFloat, type SopsComment, type SopsEntry, type SopsMap, type SopsScalar } from './sops-tree.js';

const METADATA_PREFIX = 'sops_';

export function parseSopsDotenv(text: string): ParsedSopsFile {
  const items: (SopsEntry | SopsComment)[] = [];
  const metadata: [string, string][] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    if (line.startsWith('#')) {
      items.push({ kind: 'comment', text: line.slice(1) });
      return;
    }
    const equals = line.indexOf('=');
    if (equals < 0) throw new SopsError('malformed', `dotenv line ${index + 1} has no '='`);
    const key = line.slice(0, equals);
    const value = line.slice(equals + 1).replaceAll('\\n', '\n');
    if (key.startsWith(METADATA_PREFIX)) metadata.push([key.slice(METADATA_PREFIX.length), value]);
    else items.push({ kind: 'entry', key, value: { kind: 'leaf', value } });
  });
  return {
    branches: [{ kind: 'map', items }],
    metadata: metadata.length > 0 ? unflatten(metadata) : undefined,
    render: (decrypted) => renderDotenv(decrypted[0]),
  };
}

function renderDotenv(branch: SopsMap | undefined): string {
  const lines = (branch?.items ?? []).map((item) => {
    if (item.kind === 'comment') return `#${item.text}`;
    if (item.value.kind !== 'leaf') throw new SopsError('unsupported', `dotenv cannot hold the nested value '${item.key}'`);
    return `${item.key}=${scalarText(item.value.value).replaceAll('\n', '\\n')}`;
  });
  return lines.map((line) => `${line}\n`).join('');
}

function scalarText(value: SopsScalar | null): string {
  if (value === null) return '';
  return typeof value === 'number' ? formatGoFloat(value) : String(value);
}

/**
 * Rebuilds the nested metadata from flattened keys: `__map_<key>` opens a map, `__list_<n>` a list. Maps have no
 * prototype, so a key such as `__proto__` in a hostile file stays data.
 */
function unflatten(flat: readonly [string, string][]): Record<string, unknown> {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of flat) {
    const tokens = key.split(/(?=__map_|__list_)/).map((part, index): string | number => {
      if (index === 0) return part;
      if (part.startsWith('__map_')) return part.slice('__map_'.length);
      const position = Number(part.slice('__list_'.length));
      if (!Number.isSafeInteger(position) || position < 0 || position > 1000) {
        throw new SopsError('malformed', `sops metadata key '${METADATA_PREFIX}${key}' has a bad list index`);
      }
      return position;
    });
    let node: Record<string | number, unknown> = root;
    tokens.forEach((token, index) => {
      if (index === tokens.length - 1) {
        node[token] = value;
        return;
      }
      const wantList = typeof tokens[index + 1] === 'number';
      node[token] ??= wantList ? [] : Object.create(null);
      const next = node[token];
      if (typeof next !== 'object' || next === null || Array.isArray(next) !== wantList) {
        throw new SopsError('malformed', `sops metadata key '${METADATA_PREFIX}${key}' conflicts with another`);
      }
      node = next as Record<string | number, unknown>;
    });
  }
  return root;
}
