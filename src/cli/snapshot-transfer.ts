// The snapshot verbs that make or move a dump file: `take` (dump now), `export <ts> [-o file]` (download it) and
// `import <file>` (upload one, so `restore` can load it later). Each prints the operation's saga id.
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from './api-client.js';
import { UsageError, type CliIo } from './api-command.js';
import { confirmByName, type Confirmer } from './confirm.js';
import type { Snapshot } from './ops-api-types.js';
import { formatBytes } from './text-table.js';

interface SnapshotAnswer {
  readonly sagaId: string;
  readonly snapshot: Snapshot;
}

/** A file name the receiver suggested that is safe to create in the current directory. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,200}$/;

export async function takeSnapshotVerb(api: ApiClient, app: string, io: CliIo): Promise<number> {
  io.err.write(`taking a snapshot of ${app}'s database…\n`);
  const { sagaId, snapshot: s } = await api.post<SnapshotAnswer>(`${base(app)}/take`);
  io.out.write(`snapshot ${s.ts} of ${s.database} taken (${formatBytes(s.size)}): ${s.path}\n  saga ${sagaId}\n`);
  return 0;
}

/** Downloads into `output` ('-' for stdout), or the name the receiver gave in the current directory; never overwrites. */
export async function exportSnapshotVerb(api: ApiClient, app: string, ts: string, output: string | undefined, io: CliIo, stdout: Writable): Promise<number> {
  const res = await api.download(`${base(app)}/${encodeURIComponent(ts)}/file`);
  const sagaId = res.headers.get('x-norn-saga-id') ?? 'unknown';
  const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
  if (output === '-') {
    if ((stdout as Writable & { isTTY?: boolean }).isTTY) {
      body.destroy();
      throw new UsageError('-o - writes the binary dump to stdout, which is a terminal here; redirect it (> file) or give -o file');
    }
    await pipeline(body, stdout, { end: false });
    io.err.write(`snapshot ${ts} written to stdout\n  saga ${sagaId}\n`);
    return 0;
  }
  const suggested = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  const file = output ?? (suggested && PLAIN_NAME.test(suggested) ? suggested : `${app}-${ts}.dump`);
  const partial = `${file}.partial`;
  try {
    // 'wx': an existing file (or a partial one from another download) is never replaced.
    await pipeline(body, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    await fs.link(partial, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new UsageError(`${file} exists already; pick another name with -o`);
      throw err;
    });
  } catch (err) {
    body.destroy();
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${partial} exists already (another download?); remove it or pick another name with -o`);
    throw err;
  } finally {
    await fs.rm(partial, { force: true }).catch(() => undefined);
  }
  const { size } = await fs.stat(file);
  io.out.write(`wrote ${file} (${formatBytes(size)}) from snapshot ${ts} of ${app}\n  saga ${sagaId}\n`);
  return 0;
}

/** Uploads `file` after the operator confirmed (or --yes): it becomes a snapshot `restore` can load. */
export async function importSnapshotVerb(api: ApiClient, app: string, file: string, yes: boolean, confirmer: Confirmer, io: CliIo): Promise<number> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) {
    io.err.write(`norn: ${file} is not a file\n`);
    return 1;
  }
  const action = `add ${path.basename(file)} (${formatBytes(stat.size)}) to ${app}'s snapshots, restorable with norn snapshots ${app} restore <ts>; it counts toward snapshots.keep, so a later deploy's retention may remove the oldest snapshot`;
  if (!(await confirmByName({ app, action, yes }, confirmer, io))) return 1;
  io.err.write(`uploading ${file} (${formatBytes(stat.size)})…\n`);
  const name = path.basename(file);
  const query = PLAIN_NAME.test(name) ? `?name=${encodeURIComponent(name)}` : '';
  const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  const { sagaId, snapshot: s } = await api.upload<SnapshotAnswer>(`${base(app)}/import${query}`, body, stat.size);
  io.out.write(`imported ${file} as snapshot ${s.ts} of ${s.database} (${formatBytes(s.size)})\n  restore it with: norn snapshots ${app} restore ${s.ts}\n  saga ${sagaId}\n`);
  return 0;
}

function base(app: string): string {
  return `/api/apps/${encodeURIComponent(app)}/snapshots`;
}
