// Whether something is at a path (a file, a directory, or what a symlink there points at). For decisions that do not
// need to read it; a caller that reads the file next should read it and handle ENOENT instead.
import { access } from 'node:fs/promises';

export async function pathExists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
