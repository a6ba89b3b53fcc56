// Replaces a file so that a reader (cloudflared starting up) sees either the old bytes or the new ones, never a
// half-written file, even across a crash: write a temp file in the same directory (rename is atomic only within
// a file system), fsync it, rename it over the target, then fsync the directory so the rename itself is durable.
// The new file keeps the old one's permissions (and owner, when we may set it): credentials paths live in it.
import { randomUUID } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${randomUUID()}.tmp`);
  const old = await stat(file).catch(() => undefined);
  const handle = await open(temp, 'wx', old ? old.mode & 0o7777 : 0o644);
  try {
    await handle.writeFile(content, 'utf8');
    if (old) {
      await handle.chmod(old.mode & 0o7777);
      await handle.chown(old.uid, old.gid).catch(() => undefined); // only root may give a file away
    }
    await handle.sync();
    await handle.close();
    await rename(temp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
