// Sets or deletes one top-level value of a SOPS YAML file the way `sops set` / `sops unset` would, without sops:
// the file keeps its data key (opened with one of our age identities) and its recipients, the new value is sealed
// with its path as additional data, and `lastmodified` and the MAC are renewed. The text is edited by splicing at
// the positions the YAML parser reports, never re-dumped, so every other byte (comments, other values, the
// metadata's layout) stays as it was. The file must decrypt and verify before the edit, and the result is
// decrypted and verified again before it is returned.
import { isMap, isScalar, parse, parseAllDocuments } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { decryptDataKey } from './data-key.js';
import { decryptSops } from './decrypt-sops.js';
import { decryptTree } from './decrypt-tree.js';
import { sealString } from './sops-cipher.js';
import { SopsError } from './sops-error.js';
import { verifyMac } from './sops-mac.js';
import { parseSopsMetadata } from './sops-metadata.js';
import { toPlainObject } from './sops-tree.js';
import { parseSopsYaml } from './yaml-format.js';

export type SopsEdit = { readonly op: 'set'; readonly key: string; readonly value: string } | { readonly op: 'delete'; readonly key: string };

/**
 * What the edit did. `unchanged` (the key already held that value) and `absent` (nothing to delete) return the
 * input text as it was: there is nothing to write.
 */
export type SopsEditOutcome = 'added' | 'replaced' | 'deleted' | 'unchanged' | 'absent';

export interface SopsEditResult {
  readonly text: string;
  readonly outcome: SopsEditOutcome;
  /** The age recipients the file's data key is encrypted to: the file's own, kept as they were. */
  readonly recipients: readonly string[];
}

/**
 * Applies `edit` to the first document of `text` (sops edits only that one too). `now` becomes `lastmodified`.
 * Throws SopsError: whatever decryption throws (the file must open and verify first), `unsupported` for a value
 * this editor will not touch (nested, multi-line, a flow-style map) or one the file's rules would leave in plain
 * text. No message holds a value.
 */
export async function editSopsYaml(text: string, edit: SopsEdit, identities: readonly string[], now: Date): Promise<SopsEditResult> {
  const parsed = parseSopsYaml(text);
  const metadata = parseSopsMetadata(parsed.metadata);
  const dataKey = await decryptDataKey(metadata.age, identities);
  const before = decryptTree(parsed.branches, metadata.rules, dataKey);
  verifyMac(metadata, before.mac, dataKey);
  const current = toPlainObject(before.branches[0] ?? { kind: 'map', items: [] });
  const exists = Object.hasOwn(current, edit.key);
  const recipients = metadata.age.map((key) => key.recipient);

  if (edit.op === 'delete' && !exists) return { text, outcome: 'absent', recipients };
  if (edit.op === 'set' && exists && current[edit.key] === edit.value) return { text, outcome: 'unchanged', recipients };

  const spliced = edit.op === 'set' ? spliceValue(text, edit.key, sealString(edit.value, dataKey, `${edit.key}:`)) : spliceOut(text, edit.key);

  // The spliced file, read back as sops will read it: the new value must open with its path, and the walk gives
  // the MAC over the plaintext in file order, exactly the walk sops does when it encrypts.
  const after = decryptTree(parseSopsYaml(spliced).branches, metadata.rules, dataKey);
  if (edit.op === 'set' && toPlainObject(after.branches[0]!)[edit.key] !== edit.value) {
    throw new SopsError('unsupported', `'${edit.key}' is not encrypted under this file's sops rules (${ruleName(parsed.metadata)}), so its value would be stored in plain text; choose a name the rule encrypts`);
  }
  const lastModified = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const result = renewMac(spliced, lastModified, sealString(after.mac, dataKey, lastModified));

  await decryptSops(result, 'yaml', identities); // the whole file, as any reader will open it
  return { text: result, outcome: edit.op === 'delete' ? 'deleted' : exists ? 'replaced' : 'added', recipients };
}

/** The first document's top-level map and its `sops` pair, refusing layouts a splice cannot edit safely. */
function topLevel(text: string): { map: YAMLMap; sops: Pair } {
  const doc = Array.from(parseAllDocuments(text))[0];
  const map = doc?.contents;
  if (!isMap(map)) throw new SopsError('malformed', 'the first YAML document is not a map');
  if (map.flow) throw new SopsError('unsupported', 'the top-level map is written in flow style ({…}); edit this file with sops');
  const sops = pairOf(map, 'sops');
  if (!sops) throw new SopsError('malformed', 'no sops metadata: this is not a SOPS-encrypted file');
  return { map, sops };
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
}

/** Replaces the value of `key`, or adds `key` as the last data entry (before `sops:`, where sops appends it). */
function spliceValue(text: string, key: string, sealed: string): string {
  const { map, sops } = topLevel(text);
  const pair = pairOf(map, key);
  if (!pair) {
    const keyStart = (sops.key as { range: [number, number, number] }).range[0];
    const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
    const indent = text.slice(lineStart, keyStart);
    if (!/^ *$/.test(indent)) throw new SopsError('unsupported', 'the sops block does not start on its own line; edit this file with sops');
    const eol = text.slice(0, lineStart).endsWith('\r\n') ? '\r\n' : '\n';
    return `${text.slice(0, lineStart)}${indent}${yamlKey(key)}: ${sealed}${eol}${text.slice(lineStart)}`;
  }
  const value = pair.value;
  if (value !== null && !isScalar(value)) {
    throw new SopsError('unsupported', `'${key}' holds a nested map or list; only a top-level string can be set (edit this file with sops)`);
  }
  if (!value?.range) throw new SopsError('unsupported', `'${key}' has no value position to edit; edit this file with sops`);
  const [start, end] = value.range;
  if (text.slice(start, end).includes('\n')) {
    throw new SopsError('unsupported', `'${key}' holds a value written over several lines; edit this file with sops`);
  }
  // `KEY:` with no value leaves the position right after the colon.
  const gap = start === end && text[start - 1] === ':' ? ' ' : '';
  return `${text.slice(0, start)}${gap}${sealed}${text.slice(end)}`;
}

/** Removes the lines of `key`'s entry; comments above it stay, as sops keeps them in the tree. */
function spliceOut(text: string, key: string): string {
  const { map } = topLevel(text);
  const pair = pairOf(map, key)!;
  const keyStart = (pair.key as { range: [number, number, number] }).range[0];
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
  if (!/^ *$/.test(text.slice(lineStart, keyStart))) throw new SopsError('unsupported', `'${key}' does not start on its own line; edit this file with sops`);
  const valueEnd = (pair.value as { range?: [number, number, number] } | null)?.range?.[2] ?? (pair.key as { range: [number, number, number] }).range[2];
  const newline = text[valueEnd - 1] === '\n' ? valueEnd - 1 : text.indexOf('\n', valueEnd);
  return text.slice(0, lineStart) + (newline < 0 ? '' : text.slice(newline + 1));
}

/** Writes `lastmodified` and `mac` into the sops block, each in place of the old scalar. */
function renewMac(text: string, lastModified: string, mac: string): string {
  const { sops } = topLevel(text);
  if (!isMap(sops.value)) throw new SopsError('malformed', 'sops metadata is not a map');
  const spans = (['lastmodified', 'mac'] as const).map((name) => {
    const value = pairOf(sops.value as YAMLMap, name)?.value;
    if (!isScalar(value) || !value.range) throw new SopsError('malformed', `sops.${name} is missing`);
    return { start: value.range[0], end: value.range[1], text: name === 'mac' ? mac : `"${lastModified}"` };
  });
  // From the end backwards, so the earlier span's positions still hold.
  return spans
    .sort((a, b) => b.start - a.start)
    .reduce((out, span) => out.slice(0, span.start) + span.text + out.slice(span.end), text);
}

/** A key written plain when YAML reads it back as that same string (not `null`, `true`, `1e3`), else quoted. */
function yamlKey(key: string): string {
  return parse(key) === key ? key : JSON.stringify(key);
}

function ruleName(metadata: unknown): string {
  const raw = (metadata ?? {}) as Record<string, unknown>;
  const rule = ['encrypted_regex', 'unencrypted_regex', 'encrypted_suffix', 'unencrypted_suffix', 'encrypted_comment_regex', 'unencrypted_comment_regex'].find(
    (name) => typeof raw[name] === 'string' && raw[name] !== '',
  );
  return rule ? `${rule}: ${String(raw[rule])}` : 'unencrypted_suffix: _unencrypted';
}
