// Step 1: fetch exactly the pinned commit, shallowly, into a fresh work dir named after the saga. With a repository
// cache, the commit is fetched into the repository's cached bare copy (only what changed since the last deploy)
// and its files are written from there, updating the repository's kept work tree when it has one, so only the
// files the commit changed are written (the cleanup step gives that tree back); without a cache, straight into the
// work dir. An app without `repo` (no clone URL on the deploy) copies its own directory instead, as Norn v2 does,
// and checks that the copy is the content the deploy was queued for. A failed clone fails the step: unlike Norn, it
// never falls back to the app's directory, which is not the pushed commit and would deploy something nobody pushed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { copyLocalSource, localSourceDigest } from '../../apps/local-source.js';
import { StepFailedError, UpstreamError, errorMessage } from '../../errors.js';
import type { GitClient } from '../../integrations/git/git-client.js';
import { displayUrl } from '../../integrations/git/remote-url.js';
import type { CacheOutcome, CheckoutResult, RepoCache, TreeOutcome } from '../../integrations/git/repo-cache.js';
import { done, type Step, type StepContext, type StepResult } from '../step.js';

const CACHE_NOTE: Record<CacheOutcome, string> = {
  reused: 'through the repository cache',
  created: 'into a new repository cache',
  rebuilt: 'through the repository cache (it was unusable, so it was fetched again whole)',
};

function treeNote(tree: TreeOutcome): string {
  if (tree.kind === 'updated') return `updated the cached work tree: ${tree.changed} ${tree.changed === 1 ? 'file' : 'files'} written or removed`;
  if (tree.kind === 'leased') return 'wrote the whole work tree: another deploy of this repository has the cached one';
  return 'wrote the whole work tree';
}

function cacheNote(result: CheckoutResult): string {
  return ` ${CACHE_NOTE[result.cache]}; ${treeNote(result.tree)}`;
}

export function cloneStep(deps: {
  git: Pick<GitClient, 'fetchCommit'> & Partial<Pick<GitClient, 'credentialNote'>>;
  workRoot: string;
  cache?: Pick<RepoCache, 'checkout'>;
}): Step {
  return {
    name: 'clone',
    async run(ctx) {
      const { sagaId, cloneUrl, commitSha, signal, report } = ctx;
      const workDir = path.join(deps.workRoot, sagaId);
      await fs.rm(workDir, { recursive: true, force: true });
      if (!ctx.spec.repo && cloneUrl === '') return copyAppDir(ctx, workDir);
      // The token is withheld from plain http remotes that are not this machine: say so before git may fail for it.
      const note = deps.git.credentialNote?.(cloneUrl);
      if (note) report(note);
      let via = '';
      try {
        if (deps.cache) via = cacheNote(await deps.cache.checkout(cloneUrl, commitSha, workDir, { signal }));
        else await deps.git.fetchCommit(cloneUrl, commitSha, workDir, { signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        // The git client's hint is what to do next (check repo.url, the commit was force-pushed away, ...).
        const hint = err instanceof UpstreamError && err.hint ? `; ${err.hint}` : '';
        throw new StepFailedError(
          'clone',
          `could not fetch ${commitSha.slice(0, 12)} from ${displayUrl(cloneUrl)}: ${errorMessage(err)}${hint} (the app's directory is not deployed instead: it is not the pushed commit)`,
          { cloneUrl: displayUrl(cloneUrl) },
          { cause: err },
        );
      }
      report(`checked out ${commitSha.slice(0, 12)} from ${displayUrl(cloneUrl)}${via}`);
      return done({ workDir }, `cloned ${commitSha.slice(0, 12)}`);
    },
  };
}

async function copyAppDir(ctx: StepContext, workDir: string): Promise<StepResult> {
  await copyLocalSource(ctx.specDir, workDir);
  const digest = await localSourceDigest(workDir);
  if (digest !== ctx.commitSha) {
    throw new StepFailedError('clone', `${ctx.specDir} changed after this deploy was queued; deploy again to ship its current content`, {
      queued: ctx.commitSha.slice(0, 12),
      found: digest.slice(0, 12),
    });
  }
  ctx.report(`copied ${ctx.specDir} (no repo in the spec; content digest ${digest.slice(0, 12)})`);
  return done({ workDir }, `copied the app's directory (${digest.slice(0, 12)})`);
}
