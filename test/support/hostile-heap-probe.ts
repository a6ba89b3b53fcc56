// Reads a receiver process's heap after a full garbage collection, from outside: NODE_OPTIONS preloads a few
// lines that, on SIGUSR2, run gc() and print the heap size as a marker line on stdout.
import type { ChildReceiver } from './child-receiver.js';

const PROBE = "process.on('SIGUSR2',()=>{globalThis.gc();const m=process.memoryUsage();process.stdout.write(JSON.stringify({heapProbe:m.heapUsed,rss:m.rss})+'\\n')})";

/** NODE_OPTIONS for a receiver whose heap heapAfterGc can read (the module is a data: URL, so no file to ship). */
export const HEAP_PROBE_NODE_OPTIONS = `--expose-gc --import=data:text/javascript,${encodeURIComponent(PROBE)}`;

/** Collects garbage in `receiver` and resolves with its heap and RSS afterwards, in bytes. */
export async function heapAfterGc(receiver: ChildReceiver, timeoutMs = 5_000): Promise<{ heapUsed: number; rss: number }> {
  const seen = receiver.output.length;
  receiver.process.kill('SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /\{"heapProbe":(\d+),"rss":(\d+)\}/.exec(receiver.output.slice(seen).join(''));
    if (match) return { heapUsed: Number(match[1]), rss: Number(match[2]) };
    if (Date.now() > deadline) throw new Error('the receiver did not answer the heap probe (was it started with HEAP_PROBE_NODE_OPTIONS?)');
    await new Promise((r) => setTimeout(r, 20));
  }
}
