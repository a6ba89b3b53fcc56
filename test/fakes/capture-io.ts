// An in-memory stdout/stderr for running CLI commands in-process.
import type { CliIo } from '../../src/cli/api-command.js';

export function captureIo(opts: { isTTY?: boolean } = {}): { io: CliIo; out: () => string; err: () => string; lines: () => string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: { write: (s: string) => out.push(s), isTTY: opts.isTTY ?? false }, err: { write: (s: string) => err.push(s) } },
    out: () => out.join(''),
    err: () => err.join(''),
    lines: () => out.join('').split('\n').filter((l) => l !== ''),
  };
}
