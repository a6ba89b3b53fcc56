// `POST /api/apps/:app/deploy {ref}`: resolve the ref on the app's remote to one commit, then queue a deploy
// pinned to it, exactly like a push would. An app without `repo` deploys its own directory (see local-source.ts):
// the deploy is pinned to the digest of the directory's content, ref `local`, and no clone URL.
import type { AppCatalog } from '../apps/app-catalog.js';
import { localSourceDigest } from '../apps/local-source.js';
import { InvalidInputError } from '../errors.js';
import type { GitClient } from '../integrations/git/git-client.js';
import { requireApp, resolveAppRef } from './app-ref.js';
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
    const app = requireApp(this.deps.catalog, appName, 'deploy');
    if (app.spec.deploy === false) throw new InvalidInputError('app', `${appName} has deploy: false`, 409);
    if (requestedRef !== undefined && typeof requestedRef !== 'string') throw new InvalidInputError('ref', 'must be a string');
    const repo = app.spec.repo;
    if (!repo) return this.deployLocal(app.name, app.dir, requestedRef);
    const { ref: fullRef, commitSha } = await resolveAppRef(repo, requestedRef, this.deps.git);
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
}

/** The ref of a deploy of an app's own directory (an app without `repo`). */
export const LOCAL_REF = 'local';
