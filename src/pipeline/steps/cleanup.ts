// Step 9: removes the deploy's work dir (checkout and build context), and the build.testTarget image when a
// failure before the test step left it behind. A work dir that is the repository cache's kept tree goes back to
// the cache instead, for the next deploy to update. The runner calls it after every run, failed or not;
// `removeWorkDir` is also used by recovery for deploys a dead process left behind.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine } from '../../integrations/docker/docker-engine.js';
import type { RepoCache } from '../../integrations/git/repo-cache.js';
import { pathExists } from '../../files/path-exists.js';
import { done, type Step } from '../step.js';

export function cleanupStep(deps: { workRoot: string; docker?: Pick<DockerEngine, 'removeImage'>; cache?: Pick<RepoCache, 'giveBack'> }): Step {
  return {
    name: 'cleanup',
    async run({ sagaId, cloneUrl, outputs }) {
      const dir = path.join(deps.workRoot, path.basename(sagaId));
      const existed = await pathExists(dir);
      // A checkout through the cache may hold its tree: giveBack keeps it, or removes the work dir like any other.
      const cache = existed && cloneUrl !== '' ? deps.cache : undefined;
      const kept = cache ? await cache.giveBack(cloneUrl, dir) : false;
      if (!cache) await fs.rm(dir, { recursive: true, force: true });
      // The test step removes it after the run; a removal that fails here must not fail the deploy.
      if (outputs.testImage) await deps.docker?.removeImage(outputs.testImage).catch(() => undefined);
      return done({}, kept ? 'work dir given back to the repository cache' : existed ? 'work dir removed' : 'no work dir to remove');
    },
  };
}

/** Removes `<workRoot>/<sagaId>`; true when something was there. */
export async function removeWorkDir(workRoot: string, sagaId: string): Promise<boolean> {
  const dir = path.join(workRoot, path.basename(sagaId));
  const existed = await pathExists(dir);
  await fs.rm(dir, { recursive: true, force: true });
  return existed;
}
