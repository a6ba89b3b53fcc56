// A real pino logger writing into an array, so tests can assert on what was logged (and on what never was).
import pino, { type Logger } from 'pino';
import { Writable } from 'node:stream';

export function memoryLogger(level = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level }, sink), lines };
}
