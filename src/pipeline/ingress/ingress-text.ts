// Byte positions in a cloudflared config's text, for splicing edits into it without re-serialising the rest:
// where a block list item's "- " line starts, where the comment lines introducing it start, and how a value is
// written as a YAML scalar.
import { isMap, isScalar, stringify } from 'yaml';
import { CloudflaredConfigError } from '../../integrations/cloudflared/cloudflared-config-error.js';

/** The config file's path (for messages) and its current text. */
export interface ConfigText {
  readonly path: string;
  readonly text: string;
}

/** Replace text[start, end) with `insert`; an insertion has start === end. */
export interface Splice {
  readonly start: number;
  readonly end: number;
  readonly insert: string;
}

/** Where a block sequence item's "- " line starts, and the indentation before its dash. */
export function itemStart({ path, text }: ConfigText, item: unknown): { lineStart: number; indent: string } {
  const range = isMap(item) || isScalar(item) ? item.range : undefined;
  let dash = (range?.[0] ?? 0) - 1;
  while (dash >= 0 && /\s/.test(text[dash]!)) dash--;
  const lineStart = text.lastIndexOf('\n', dash - 1) + 1;
  const indent = text.slice(lineStart, dash);
  if (text[dash] !== '-' || !/^ *$/.test(indent)) {
    throw new CloudflaredConfigError('unsupported', path, ['norn edits ingress rules laid out as "- key: value" lines']);
  }
  return { lineStart, indent };
}

/** Moves an insertion point above the comment lines (at the item's indentation) that introduce the item. */
export function aboveLeadingComments(text: string, lineStart: number, indent: string): number {
  let at = lineStart;
  while (at > 0) {
    const prev = text.lastIndexOf('\n', at - 2) + 1;
    const line = text.slice(prev, at - 1).replace(/\r$/, '');
    if (!line.startsWith(`${indent}#`)) break;
    at = prev;
  }
  return at;
}

export function applySplices(text: string, splices: readonly Splice[]): string {
  // From the end backwards, so each splice's offsets are still those of the original parse.
  return [...splices].sort((a, b) => b.start - a.start).reduce((out, s) => out.slice(0, s.start) + s.insert + out.slice(s.end), text);
}

export function scalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}
