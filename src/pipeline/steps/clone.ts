// Step 1: fetch exactly the pinned commit, shallowly, into a fresh work dir named after the saga.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GitClient } from '../../integrations/git/git-client.js';
import { done, type Step } from '../step.js';

export function cloneStep(deps: { git: Pick<GitClient, 'fetchCommit'> & Partial<Pick<GitClient, 'credentialNote'>>; workRoot: string }): Step {
  return {
    name: 'clone',
    async run({ sagaId, cloneUrl, commitSha, signal, report }) {
      const workDir = path.join(deps.workRoot, sagaId);
      await fs.rm(workDir, { recursive: true, force: true });
      // The token is withheld from plain http remotes that are not this machine: say so before git may fail for it.
      const note = deps.git.credentialNote?.(cloneUrl);
      if (note) report(note);
      await deps.git.fetchCommit(cloneUrl, commitSha, workDir, { signal });
      report(`checked out ${commitSha.slice(0, 12)} from ${redactUrl(cloneUrl)}`);
      return done({ workDir }, `cloned ${commitSha.slice(0, 12)}`);
    },
  };
}

/** A clone URL as it may be shown: user info removed. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}
