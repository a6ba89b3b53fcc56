// An app without `repo` deploys its own directory in the apps dir, as Norn v2 does: the directory is copied into
// the work dir and built from there. What identifies one version of it is a digest of its content (paths, file
// types and bytes), which stands in for the commit: it names the image tag and shows in the deploy record.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Entries a directory walk will not follow: a huge tree should fail clearly, not hang the deploy. */
const MAX_ENTRIES = 200_000;

/** The sha256 (64 hex) of the directory's content; equal content in any other place gives the same digest. */
export async function localSourceDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  let count = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (++count > MAX_ENTRIES) throw new Error(`${dir} holds more than ${MAX_ENTRIES} entries; give the app a repo instead`);
      const relPath = path.posix.join(rel, e.name);
      const full = path.join(dir, relPath);
      if (e.isDirectory()) {
        hash.update(`d\0${relPath}\0`);
        await walk(relPath);
      } else if (e.isSymbolicLink()) {
        hash.update(`l\0${relPath}\0${await fs.readlink(full)}\0`);
      } else if (e.isFile()) {
        const stat = await fs.stat(full);
        hash.update(`f\0${relPath}\0${stat.mode & 0o111 ? 'x' : '-'}\0${stat.size}\0`);
        hash.update(await fs.readFile(full));
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

/** Copies the app's directory into `workDir` (symlinks copied as links; the build context check refuses escapes). */
export async function copyLocalSource(dir: string, workDir: string): Promise<void> {
  await fs.mkdir(workDir, { recursive: true });
  await fs.cp(dir, workDir, { recursive: true, verbatimSymlinks: true, errorOnExist: false, force: true });
}
