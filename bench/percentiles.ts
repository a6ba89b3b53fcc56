// Exact percentiles over every recorded sample, shared by the benches. (autocannon's own histogram keeps whole
// milliseconds, too coarse for a server answering in a fraction of one.)

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The nearest-rank percentile `p` (0-100) of `samples`; 0 when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  return { count: list.length, p50: percentile(list, 50), p99: percentile(list, 99), max: list[list.length - 1] ?? 0 };
}

export function mark(ok: boolean): 'PASS' | 'MISS' {
  return ok ? 'PASS' : 'MISS';
}

/** Milliseconds with enough digits for sub-millisecond figures (microseconds below 0.1 ms). */
export function fmtMs(ms: number): string {
  if (ms < 0.1) return `${(ms * 1000).toFixed(1)} µs`;
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/** How `ours` compares with `peer` where smaller is better, e.g. "3.2x faster" or "1.7x slower". */
export function speedRatio(ours: number, peer: number): string {
  if (ours <= 0 || peer <= 0) return 'n/a';
  return ours <= peer ? `${(peer / ours).toFixed(1)}x faster` : `${(ours / peer).toFixed(1)}x slower`;
}

/** Pads cells into aligned columns; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
