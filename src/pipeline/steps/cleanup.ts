// Step 9: removes the deploy's work dir (checkout and build context), and the build.testTarget image when a
// failure before the test step left it behind. The runner calls it after every run, failed or not; it is also
// used by recovery for deploys a dead process left behind.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine } from '../../integrations/docker/docker-engine.js';
import { done, type Step } from '../step.js';

export function cleanupStep(deps: { workRoot: string; docker?: Pick<DockerEngine, 'removeImage'> }): Step {
  return {
    name: 'cleanup',
    async run({ sagaId, outputs }) {
      const removed = await removeWorkDir(deps.workRoot, sagaId);
      // The test step removes it after the run; a removal that fails here must not fail the deploy.
      if (outputs.testImage) await deps.docker?.removeImage(outputs.testImage).catch(() => undefined);
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
