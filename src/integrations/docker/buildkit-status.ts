// BuildKit builds (`/build?version=2`) report progress as `{"id":"moby.buildkit.trace","aux":"<base64>"}` lines,
// each a protobuf `moby.buildkit.v1.StatusResponse` (github.com/moby/buildkit api/services/control/control.proto).
// This decodes the few fields a log needs and renders them the way `docker build --progress=plain` does:
// `#3 [build 2/5] RUN make`, then `#3 <output line>`, then `#3 CACHED`, `#3 DONE` or `#3 ERROR: ...`.

interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error: string;
}

interface VertexLog {
  vertex: string;
  msg: Buffer;
}

/** Turns trace messages into plain-progress text; keeps only per-vertex numbering and what was already printed. */
export class BuildKitProgress {
  private readonly numbers = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();

  /** The text lines (each ending in \n) for one base64 trace message. */
  render(base64: string): string {
    const { vertexes, logs, warnings } = decodeStatus(Buffer.from(base64, 'base64'));
    let out = '';
    for (const v of vertexes) {
      const n = this.number(v.digest);
      if ((v.started || v.completed || v.cached) && !this.announced.has(v.digest) && v.name) {
        this.announced.add(v.digest);
        out += `#${n} ${v.name}\n`;
      }
      if (v.completed && !this.finished.has(v.digest)) {
        this.finished.add(v.digest);
        out += v.error ? `#${n} ERROR: ${v.error}\n` : v.cached ? `#${n} CACHED\n` : `#${n} DONE\n`;
      } else if (v.cached && !v.completed && !this.finished.has(v.digest)) {
        this.finished.add(v.digest);
        out += `#${n} CACHED\n`;
      }
    }
    for (const log of logs) {
      const n = this.number(log.vertex);
      for (const line of log.msg.toString('utf8').split('\n')) if (line.trim() !== '') out += `#${n} ${line.replace(/\r/g, '')}\n`;
    }
    for (const w of warnings) out += `#${this.number(w.vertex)} WARNING: ${w.short}\n`;
    return out;
  }

  private number(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return n;
  }
}

function decodeStatus(buf: Buffer): { vertexes: Vertex[]; logs: VertexLog[]; warnings: { vertex: string; short: string }[] } {
  const fields = readFields(buf);
  const vertexes = (fields.get(1) ?? []).map((b) => {
    const f = readFields(b as Buffer);
    return {
      digest: str(f, 1),
      name: str(f, 3),
      cached: num(f, 4) === 1,
      started: f.has(5),
      completed: f.has(6),
      error: str(f, 7),
    };
  });
  const logs = (fields.get(3) ?? []).map((b) => {
    const f = readFields(b as Buffer);
    return { vertex: str(f, 1), msg: (f.get(4)?.[0] as Buffer | undefined) ?? Buffer.alloc(0) };
  });
  const warnings = (fields.get(4) ?? []).map((b) => {
    const f = readFields(b as Buffer);
    return { vertex: str(f, 1), short: str(f, 3) };
  });
  return { vertexes, logs, warnings };
}

type FieldValue = Buffer | number;

/** The fields of one protobuf message: varints as numbers, length-delimited values as Buffers; others skipped. */
function readFields(buf: Buffer): Map<number, FieldValue[]> {
  const fields = new Map<number, FieldValue[]>();
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated BuildKit status message');
      const byte = buf[pos++]!;
      // Values past 2^53 (never seen in the fields read here) lose precision rather than fail.
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    let value: FieldValue | undefined;
    if (wireType === 0) value = varint();
    else if (wireType === 2) {
      const length = varint();
      value = buf.subarray(pos, pos + length);
      pos += length;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else throw new Error(`unexpected protobuf wire type ${wireType} in a BuildKit status message`);
    if (value !== undefined) fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

function str(fields: Map<number, FieldValue[]>, n: number): string {
  const v = fields.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : '';
}

function num(fields: Map<number, FieldValue[]>, n: number): number {
  const v = fields.get(n)?.[0];
  return typeof v === 'number' ? v : 0;
}
