// `POST /api/apps/:app/deploy {ref}`: resolve the ref on the app's remote to one commit, then queue a deploy
// pinned to it, exactly like a push would.
import path from 'node:path';
import type { AppCatalog } from '../apps/app-catalog.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { isCommitSha, isSafeRef, type GitClient } from '../integrations/git/git-client.js';
import type { DeployQueue } from './deploy-queue.js';

export interface ManualDeployResult {
  readonly app: string;
  readonly sagaId: string;
  readonly ref: string;
  readonly commitSha: string;
}

export class ManualDeploy {
  constructor(
    private readonly deps: {
      catalog: Pick<AppCatalog, 'get'> & Partial<Pick<AppCatalog, 'list'>>;
      git: Pick<GitClient, 'resolveRef'>;
      queue: DeployQueue;
      onQueued: () => void;
    },
  ) {}

  async deploy(appName: string, requestedRef: unknown): Promise<ManualDeployResult> {
    const app = this.deps.catalog.get(appName);
    if (!app) throw this.missing(appName);
    if (app.spec.deploy === false) throw new InvalidInputError('app', `${appName} has deploy: false`, 409);
    const repo = app.spec.repo;
    if (!repo) throw new InvalidInputError('repo', `${appName} has no repo in its spec`, 409);
    if (requestedRef !== undefined && typeof requestedRef !== 'string') throw new InvalidInputError('ref', 'must be a string');
    const ref = requestedRef?.trim() || repo.branch;
    if (!isCommitSha(ref) && !isSafeRef(ref)) throw new InvalidInputError('ref', 'is not a valid git ref or commit');
    const commitSha = isCommitSha(ref) ? ref : await this.deps.git.resolveRef(repo.url, ref);
    if (!commitSha) throw new InvalidInputError('ref', `${ref} does not exist on the app's remote`, 404);
    const fullRef = isCommitSha(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const deploy = await this.deps.queue.enqueue({
      app: app.name,
      kind: 'deploy',
      ref: fullRef,
      commitSha,
      trigger: 'manual',
      deliveryId: null,
      forge: null,
      repoFullName: null,
      cloneUrl: repo.url,
      prNumber: null,
    });
    this.deps.onQueued();
    return { app: app.name, sagaId: deploy.id, ref: fullRef, commitSha };
  }

  /** An app whose spec is invalid is not in the catalog: say why, rather than that it does not exist. */
  private missing(appName: string): Error {
    const problem = this.deps.catalog.list?.().errors.find((e) => path.basename(path.dirname(e.file)) === appName);
    if (!problem) return new NotFoundError('app', appName);
    return new InvalidInputError(
      problem.path || 'spec',
      `${problem.reason}; ${appName}'s spec is invalid and not loaded, so it cannot deploy (fix ${path.join(appName, path.basename(problem.file))}; norn validate lists every problem)`,
      409,
    );
  }
}
