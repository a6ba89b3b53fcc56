// The pieces under `norn logs`: the engine's framed log stream decoded into lines per stream however the bytes are
// chunked, and many instances' streams merged into one that closes every source when its reader stops.
import { expect } from 'chai';
import { LogFrames } from '../../../src/integrations/docker/docker-containers.js';
import { mergeLogSources } from '../../../src/runtime/merge-log-sources.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('LogFrames (the engine\'s multiplexed log stream)', () => {
  it('gives whole lines per stream even when frames and lines are cut anywhere between chunks', () => {
    const bytes = Buffer.concat([frame(1, 'hello wo'), frame(2, 'oops\n'), frame(1, 'rld\nsecond line\r\nthird'), frame(2, 'é done\n')]);
    for (const size of [1, 3, 7, bytes.length]) {
      const frames = new LogFrames();
      const lines = [];
      for (let at = 0; at < bytes.length; at += size) lines.push(...frames.push(bytes.subarray(at, at + size)));
      lines.push(...frames.end());
      expect(lines, `chunks of ${size}`).to.deep.equal([
        { stream: 'stderr', text: 'oops' },
        { stream: 'stdout', text: 'hello world' },
        { stream: 'stdout', text: 'second line' },
        { stream: 'stderr', text: 'é done' },
        { stream: 'stdout', text: 'third' },
      ]);
    }
  });

  it('reads output without frames (a TTY container) as stdout', () => {
    const frames = new LogFrames();
    expect([...frames.push(Buffer.from('plain text\nmore')), ...frames.end()]).to.deep.equal([
      { stream: 'stdout', text: 'plain text' },
      { stream: 'stdout', text: 'more' },
    ]);
  });
});

describe('mergeLogSources', () => {
  it('passes on every line of every source and ends when they all have', async () => {
    async function* source(name: string, n: number) {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        yield `${name}${i}`;
      }
    }
    const seen: string[] = [];
    for await (const line of mergeLogSources([source('a', 5), source('b', 3), source('c', 0)])) seen.push(line);
    expect(seen.sort()).to.deep.equal(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
  });

  it('closes every source when the reader stops, without waiting for one that has nothing to say', async () => {
    const closed: string[] = [];
    const abort = new AbortController();
    async function* talkative() {
      try {
        for (let i = 0; ; i++) {
          yield `line ${i}`;
          await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        closed.push('talkative');
      }
    }
    async function* silent() {
      try {
        // Like a followed log of an idle instance: it ends only when the request's signal aborts.
        await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve()));
      } finally {
        closed.push('silent');
      }
      yield* [];
    }
    let n = 0;
    for await (const line of mergeLogSources([talkative(), silent()])) {
      expect(line).to.match(/^line/);
      if (++n === 3) break;
    }
    // The reader got past `break`: the merge did not wait for the silent source.
    abort.abort();
    await new Promise((r) => setTimeout(r, 20));
    expect(closed.sort()).to.deep.equal(['silent', 'talkative']);
  });
});
