// `norn snapshots <app> import <file>`: an uploaded dump joins the app's snapshots, so the existing restore verb
// can load it later. The upload is hostile until checked: its name is never used (the store names the file), it
// is cut off past the size limit, and it is kept only when it is a whole pg_dump custom-format archive that
// pg_restore can read, since that is what a restore runs. It is written under a temporary name beside its final
// place and linked there only once checked, so a refused or broken upload leaves nothing behind.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CommandError, InvalidInputError } from '../errors.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';
import { freeTimestamp, snapshotFile } from './take-snapshot.js';

export interface ImportSnapshotDeps {
  readonly snapshotsDir: string;
  readonly snapshots: SnapshotStore;
  readonly clock: () => Date;
  /** Reads the archive's table of contents (`pg_restore --list`); throws a CommandError when it cannot. */
  readArchive(file: string, options: { signal?: AbortSignal }): Promise<unknown>;
}

export interface ImportSnapshotInput {
  readonly app: string;
  /** The app's database (infrastructure.postgres.database): the one a restore of this snapshot replaces. */
  readonly database: string;
  readonly body: Readable;
  readonly maxBytes: number;
  /** The operation's saga. */
  readonly sagaId: string;
  readonly signal?: AbortSignal;
}

/** The first bytes of every pg_dump custom-format archive. */
const ARCHIVE_MAGIC = Buffer.from('PGDMP', 'latin1');

export async function importSnapshot(input: ImportSnapshotInput, deps: ImportSnapshotDeps): Promise<Snapshot> {
  const dir = path.dirname(snapshotFile(deps.snapshotsDir, { app: input.app, database: input.database, label: 'import', ts: 'ts' }));
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.import-${randomBytes(6).toString('hex')}.partial`);
  try {
    const size = await receive(input.body, temp, input.maxBytes, input.signal);
    await checkFormat(temp, size);
    try {
      await deps.readArchive(temp, { signal: input.signal });
    } catch (err) {
      if (err instanceof CommandError) {
        throw new InvalidInputError('file', `starts like a pg_dump custom-format archive but pg_restore cannot read it (truncated or damaged?): ${err.stderrTail.trim().slice(-300)}`, 422);
      }
      throw err;
    }
    const now = deps.clock();
    const ts = await freeTimestamp(input.app, now, deps.snapshots);
    const file = snapshotFile(deps.snapshotsDir, { app: input.app, database: input.database, label: 'import', ts });
    // link, not rename: it fails instead of replacing a file that is already there.
    await fs.link(temp, file);
    try {
      return await deps.snapshots.record({ app: input.app, database: input.database, commitSha: null, sagaId: input.sagaId, kind: 'import', size, path: file, ts, createdAt: now.toISOString() });
    } catch (err) {
      await fs.rm(file, { force: true });
      throw err;
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * Writes the body into `file` (created, never replaced, mode 0600), at most `maxBytes`. Past the limit the rest of
 * the body is read and dropped, so the client gets the 413 answer rather than a reset connection.
 */
async function receive(body: Readable, file: string, maxBytes: number, signal: AbortSignal | undefined): Promise<number> {
  const handle = await fs.open(file, 'wx', 0o600);
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        body.off('data', onData);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) return resolve();
        body.resume();
        reject(err);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(new InvalidInputError('file', `is larger than the import limit of ${Math.floor(maxBytes / (1024 * 1024))} MiB (NORN_SNAPSHOT_IMPORT_MAX_MB on the receiver)`, 413));
          return;
        }
        // One write at a time: the body waits while its chunk reaches the file, so 'end' comes after the last write.
        body.pause();
        handle.write(chunk).then(() => {
          if (!settled) body.resume();
        }, finish);
      };
      const onAbort = () => finish(signal?.reason);
      body.on('data', onData);
      body.once('end', () => finish());
      body.once('error', () => finish(new InvalidInputError('file', `the upload was cut off after ${size} bytes; send the file again`)));
      body.once('close', () => finish(new InvalidInputError('file', `the upload was cut off after ${size} bytes; send the file again`)));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    await handle.sync();
    return size;
  } finally {
    await handle.close();
  }
}

/** Refuses what is not a custom-format archive, naming what it looks like instead and how to make the right one. */
async function checkFormat(file: string, size: number): Promise<void> {
  if (size === 0) throw new InvalidInputError('file', 'is empty; send a pg_dump custom-format archive (pg_dump -Fc)', 422);
  const head = Buffer.alloc(512);
  const handle = await fs.open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (size >= ARCHIVE_MAGIC.length && head.subarray(0, ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC)) return;
  throw new InvalidInputError('file', `${looksLike(head.subarray(0, Math.min(size, head.length)))}; make one with pg_dump -Fc --dbname=<database> --file=<file>`, 422);
}

function looksLike(head: Buffer): string {
  const how = 'restores run pg_restore, which needs a custom-format archive';
  if (head[0] === 0x1f && head[1] === 0x8b) return `is gzip-compressed, not a pg_dump custom-format archive (send the archive itself); ${how}`;
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return `is a tar archive (pg_dump -Ft?), not a custom-format one; ${how}`;
  const text = head.toString('utf8');
  if (/^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(text.replace(/\uFFFD$/, ''))) {
    return `is text (a plain SQL dump, made without -Fc?), not a custom-format archive; ${how}`;
  }
  return `is not a pg_dump custom-format archive (it does not start with PGDMP); ${how}`;
}
