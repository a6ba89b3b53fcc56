// `POST /api/apps/:app/deploy {ref}`: resolve the ref on the app's remote to one commit, then queue a deploy
// pinned to it, exactly like a push would. An app without `repo` deploys its own directory (see local-source.ts):
// the deploy is pinned to the digest of the directory's content, ref `local`, and no clone URL.
import path from 'node:path';
import type { AppCatalog } from '../apps/app-catalog.js';
import { localSourceDigest } from '../apps/local-source.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { isCommitSha, isSafeRef, type GitClient } from '../integrations/git/git-client.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';

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
      lifecycle: Pick<DeployLifecycle, 'queue'>;
      onQueued: () => void;
    },
  ) {}

  async deploy(appName: string, requestedRef: unknown): Promise<ManualDeployResult> {
    const app = this.deps.catalog.get(appName);
    if (!app) throw this.missing(appName);
    if (app.spec.deploy === false) throw new InvalidInputError('app', `${appName} has deploy: false`, 409);
    if (requestedRef !== undefined && typeof requestedRef !== 'string') throw new InvalidInputError('ref', 'must be a string');
    const repo = app.spec.repo;
    if (!repo) return this.deployLocal(app.name, app.dir, requestedRef);
    const ref = requestedRef?.trim() || repo.branch;
    if (!isCommitSha(ref) && !isSafeRef(ref)) throw new InvalidInputError('ref', 'is not a valid git ref or commit');
    const commitSha = isCommitSha(ref) ? ref : await this.deps.git.resolveRef(repo.url, ref);
    if (!commitSha) throw new InvalidInputError('ref', `${ref} does not exist on the app's remote`, 404);
    const fullRef = isCommitSha(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const deploy = await this.deps.lifecycle.queue({
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

  private async deployLocal(app: string, dir: string, requestedRef: string | undefined): Promise<ManualDeployResult> {
    if (requestedRef?.trim()) {
      throw new InvalidInputError('ref', `${app} has no repo: it deploys its own directory (${dir}) as it is now, so no ref applies`);
    }
    const commitSha = await localSourceDigest(dir);
    const deploy = await this.deps.lifecycle.queue({
      app,
      kind: 'deploy',
      ref: LOCAL_REF,
      commitSha,
      trigger: 'manual',
      deliveryId: null,
      forge: null,
      repoFullName: null,
      cloneUrl: '',
      prNumber: null,
    });
    this.deps.onQueued();
    return { app, sagaId: deploy.id, ref: LOCAL_REF, commitSha };
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

/** The ref of a deploy of an app's own directory (an app without `repo`). */
export const LOCAL_REF = 'local';
