// Step 1: fetch exactly the pinned commit, shallowly, into a fresh work dir named after the saga. With a repository
// cache, the commit is fetched into the repository's cached bare copy (only what changed since the last deploy)
// and its files are written from there; without one, straight into the work dir.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GitClient } from '../../integrations/git/git-client.js';
import type { CacheOutcome, RepoCache } from '../../integrations/git/repo-cache.js';
import { done, type Step } from '../step.js';

const CACHE_NOTE: Record<CacheOutcome, string> = {
  reused: 'through the repository cache',
  created: 'into a new repository cache',
  rebuilt: 'through the repository cache (it was unusable, so it was fetched again whole)',
};

export function cloneStep(deps: { git: Pick<GitClient, 'fetchCommit'>; workRoot: string; cache?: Pick<RepoCache, 'checkout'> }): Step {
  return {
    name: 'clone',
    async run({ sagaId, cloneUrl, commitSha, signal, report }) {
      const workDir = path.join(deps.workRoot, sagaId);
      await fs.rm(workDir, { recursive: true, force: true });
      let via = '';
      if (deps.cache) via = ` ${CACHE_NOTE[await deps.cache.checkout(cloneUrl, commitSha, workDir, { signal })]}`;
      else await deps.git.fetchCommit(cloneUrl, commitSha, workDir, { signal });
      report(`checked out ${commitSha.slice(0, 12)} from ${redactUrl(cloneUrl)}${via}`);
      return done({ workDir }, `cloned ${commitSha.slice(0, 12)}`);
    },
  };
}

/** A clone URL as it may be shown: user info removed. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}
