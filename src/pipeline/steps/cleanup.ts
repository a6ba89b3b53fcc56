// Step 9: removes the deploy's work dir (checkout and build context). The runner calls it after every run,
// failed or not; it is also used by recovery for deploys a dead process left behind.
import fs from 'node:fs/promises';
import path from 'node:path';
import { done, type Step } from '../step.js';

export function cleanupStep(deps: { workRoot: string }): Step {
  return {
    name: 'cleanup',
    async run({ sagaId }) {
      const removed = await removeWorkDir(deps.workRoot, sagaId);
      return done({}, removed ? 'work dir removed' : 'no work dir to remove');
    },
  };
}

/** Removes `<workRoot>/<sagaId>`; true when something was there. */
export async function removeWorkDir(workRoot: string, sagaId: string): Promise<boolean> {
  const dir = path.join(workRoot, path.basename(sagaId));
  const existed = await fs.stat(dir).then(() => true, () => false);
  await fs.rm(dir, { recursive: true, force: true });
  return existed;
}
