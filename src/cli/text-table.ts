// Aligned columns for the CLI's tables: a header row, then one row per item; the last column is never padded.
// Cells are untrusted text: control characters (newlines too) are escaped, so a value cannot forge rows.
import { oneLine } from './terminal-text.js';

export function textTable(header: readonly string[], rows: readonly (readonly string[])[], opts: { alignRight?: readonly number[] } = {}): string[] {
  const all = [header, ...rows].map((row) => row.map(oneLine));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const right = new Set(opts.alignRight ?? []);
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 && !right.has(i) ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** 512 B, 1.5 KiB, 12.0 MiB: sizes as people read them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
