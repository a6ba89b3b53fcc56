// Slow webhook senders on raw sockets: each declares a large body and sends it in small pieces, as an attacker
// holding memory would. Resolves with each sender's answer; a sender the receiver cuts off stops writing.
import net from 'node:net';
import fs from 'node:fs';

export interface SlowAnswer {
  readonly status?: number;
  readonly retryAfter?: string;
}

export function slowBody(port: number, opts: { bytes: number; chunkBytes: number; gapMs: number; id: string }): Promise<SlowAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const head = [
      'POST /api/webhooks/github HTTP/1.1',
      'Host: x',
      'Content-Type: application/json',
      'X-GitHub-Event: push',
      `X-GitHub-Delivery: ${opts.id}`,
      `X-Hub-Signature-256: sha256=${'0'.repeat(64)}`,
      `Content-Length: ${opts.bytes}`,
    ].join('\r\n');
    const chunk = Buffer.alloc(opts.chunkBytes, 0x20);
    let sent = 0;
    let received = '';
    const timer = setInterval(() => {
      if (sent >= opts.bytes || socket.destroyed) return clearInterval(timer);
      const piece = chunk.subarray(0, Math.min(opts.chunkBytes, opts.bytes - sent));
      sent += piece.length;
      socket.write(piece);
    }, opts.gapMs);
    socket.on('error', () => undefined); // cut off after the answer: that is the receiver closing a refused request
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => {
      clearInterval(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve({ status: status ? Number(status) : undefined, retryAfter: /\r\nretry-after: (\S+)/i.exec(received)?.[1] });
    });
    socket.write(`${head}\r\n\r\n`);
  });
}

/** Resident memory (VmRSS) and its high-water mark (VmHWM) of a process, in bytes, from /proc. */
export function residentMemory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
