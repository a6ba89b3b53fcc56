// Hostile requests that are not well-formed HTTP, or not sent whole, written byte by byte on raw sockets: bodies
// cut short by a hang-up, Content-Length far over the limit, oversized headers, broken framing and slow senders.
import net from 'node:net';

export interface RawHostile {
  readonly kind: string;
  readonly bytes: string;
  /** Close right after writing, without waiting for an answer (the sender hung up mid-request). */
  readonly hangUp: boolean;
  /** Statuses a correct receiver may answer; empty when no answer is awaited. */
  readonly expected: readonly number[];
}

export interface RawAnswer {
  /** The answer's status, or undefined when none came (hung up, or the receiver said nothing in time). */
  readonly status?: number;
}

const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const HOOK = 'POST /api/webhooks/github HTTP/1.1';
const IDS = (n: number) => [`x-github-event: push`, `x-github-delivery: raw-${n}`];

/** The n-th generated raw request. */
export function rawHostileRequest(n: number, maxBodyBytes: number): RawHostile {
  switch (n % 6) {
    case 0:
      return { kind: 'body cut short', bytes: head([HOOK, 'Host: x', ...IDS(n), `Content-Length: ${200 + (n % 300)}`]) + '{"ref":"refs/heads/ma', hangUp: true, expected: [] };
    case 1:
      return { kind: 'declared length over the limit', bytes: head([HOOK, 'Host: x', 'Connection: close', ...IDS(n), `Content-Length: ${maxBodyBytes * (2 + (n % 1000))}`]) + 'x'.repeat(512), hangUp: false, expected: [413] };
    case 2:
      return { kind: 'oversized headers', bytes: head([HOOK, 'Host: x', ...IDS(n), `X-Padding: ${'p'.repeat(17_000 + (n % 20_000))}`, 'Content-Length: 0']), hangUp: false, expected: [431] };
    case 3: {
      const lines = ['GARBAGE', 'POST /api/webhooks/github HTTP/9.9', 'FOO /api/webhooks HTTP/1.1', `${HOOK}\r\nHost: x\r\nContent-Length: abc`, `${HOOK}\r\nHost: x\r\nX-A: a\u0000b`, 'PRI * HTTP/2.0\r\n\r\nSM'];
      return { kind: 'broken request line or header', bytes: head([lines[(n >> 3) % lines.length]!]), hangUp: false, expected: [400] };
    }
    case 4: {
      const framing = ['Transfer-Encoding: chunked\r\nContent-Length: 3', 'Content-Length: 3\r\nContent-Length: 4'];
      return { kind: 'conflicting framing', bytes: head([HOOK, 'Host: x', ...IDS(n), framing[(n >> 3) % framing.length]!]) + '0\r\n\r\n', hangUp: false, expected: [400] };
    }
    default: {
      const framing = ['Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc', 'Transfer-Encoding: gzip\r\n\r\nabc', 'Transfer-Encoding: chunked\r\n\r\nzz\r\n'];
      return { kind: 'broken chunked body', bytes: `${HOOK}\r\nHost: x\r\n${IDS(n).join('\r\n')}\r\n${framing[(n >> 3) % framing.length]!}`, hangUp: false, expected: [400] };
    }
  }
}

/** Writes `bytes` on a new connection to 127.0.0.1:`port` and reads the answer's status line. */
export function sendRaw(port: number, bytes: string, opts: { hangUp?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({ status: match ? Number(match[1]) : undefined });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 5_000);
    socket.on('error', () => undefined); // a reset after the answer is the receiver closing a refused request
    socket.on('data', (d) => {
      received += String(d);
      if (/^HTTP\/1\.[01] (?!100 )\d{3}/.test(received)) finish();
    });
    socket.on('close', finish);
    socket.write(bytes, 'latin1', () => {
      if (opts.hangUp) finish();
    });
  });
}

/** A POST to the GitHub webhook path, closing after the answer, with `headers` and `body`. */
export function rawPost(headers: string[], body: string): string {
  return head([HOOK, 'Host: x', 'Connection: close', ...headers, `Content-Length: ${Buffer.byteLength(body)}`]) + body;
}

/**
 * A slow sender: writes `bytes` (headers and body) in `chunks` pieces `gapMs` apart, well within the server's
 * header and request timeouts, and resolves with the answer's status.
 */
export function trickle(port: number, bytes: string, chunks: number, gapMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const size = Math.ceil(bytes.length / chunks);
    let sent = 0;
    const timer = setInterval(() => {
      socket.write(bytes.slice(sent, sent + size), 'latin1');
      sent += size;
      if (sent >= bytes.length) clearInterval(timer);
    }, gapMs);
    socket.on('error', () => undefined);
    socket.on('data', (d) => (received += String(d)));
    socket.on('close', () => {
      clearInterval(timer);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({ status: match ? Number(match[1]) : undefined });
    });
  });
}
