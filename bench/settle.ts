// Waits for the machine to go quiet between measurements, so work a target left behind (adnanh/webhook still
// spawning the commands of requests it already answered, a WAL checkpoint) is not charged to the next target.
// Reads /proc/stat; elsewhere it just pauses for a second.
import { readFile } from 'node:fs/promises';

async function cpuTimes(): Promise<{ busy: number; total: number } | undefined> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => undefined);
  const fields = text?.split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number);
  if (!fields || fields.length < 5) return undefined;
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Resolves once the CPUs are less than `maxBusy` busy over a 200 ms window (or after `timeoutMs`); returns the wait in ms. */
export async function settle(maxBusy = 0.35, timeoutMs = 15_000): Promise<number> {
  const t0 = performance.now();
  let before = await cpuTimes();
  if (!before) {
    await new Promise((r) => setTimeout(r, 1000));
    return performance.now() - t0;
  }
  while (performance.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 200));
    const after = (await cpuTimes())!;
    const busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    before = after;
    if (busy < maxBusy) break;
  }
  return performance.now() - t0;
}
