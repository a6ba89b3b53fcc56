// Which commit a manual run of an app means: the ref an operator typed (or the app's tracked branch), checked and
// resolved on the app's remote to one commit. Manual deploys and manual preflights share it, so both refuse the same
// input the same way: a hostile ref is a 400 naming `ref`, one the remote does not have a 404.
import path from 'node:path';
import type { AppCatalog } from '../apps/app-catalog.js';
import type { LoadedApp } from '../apps/load-app-specs.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { isCommitSha, isSafeRef, type GitClient } from '../integrations/git/git-client.js';

export interface ResolvedRef {
  /** `refs/heads/<branch>`, `refs/...` as given, or the commit itself. */
  readonly ref: string;
  readonly commitSha: string;
}

/** Resolves `requestedRef` (default: the tracked branch) of an app that has a `repo`. */
export async function resolveAppRef(repo: { url: string; branch: string }, requestedRef: unknown, git: Pick<GitClient, 'resolveRef'>): Promise<ResolvedRef> {
  if (requestedRef !== undefined && typeof requestedRef !== 'string') throw new InvalidInputError('ref', 'must be a string');
  const ref = requestedRef?.trim() || repo.branch;
  if (!isCommitSha(ref) && !isSafeRef(ref)) throw new InvalidInputError('ref', 'is not a valid git ref or commit');
  const commitSha = isCommitSha(ref) ? ref : await git.resolveRef(repo.url, ref);
  if (!commitSha) throw new InvalidInputError('ref', `${ref} does not exist on the app's remote`, 404);
  return { ref: isCommitSha(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`, commitSha };
}

/** The app, or why there is none: an app whose spec is invalid is not in the catalog, and that is said. */
export function requireApp(catalog: Pick<AppCatalog, 'get'> & Partial<Pick<AppCatalog, 'list'>>, appName: string, verb: string): LoadedApp {
  const app = catalog.get(appName);
  if (app) return app;
  const problem = catalog.list?.().errors.find((e) => path.basename(path.dirname(e.file)) === appName);
  if (!problem) throw new NotFoundError('app', appName);
  throw new InvalidInputError(
    problem.path || 'spec',
    `${problem.reason}; ${appName}'s spec is invalid and not loaded, so it cannot ${verb} (fix ${path.join(appName, path.basename(problem.file))}; norn validate lists every problem)`,
    409,
  );
}
