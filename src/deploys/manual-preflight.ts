// `POST /api/apps/:app/preflight {ref}`: the pull-request preflight (clone, build without push, test, plan) on
// demand, for any ref of the app's remote (default its tracked branch). It is queued like a deploy of kind
// `preflight`, so it runs the preflight pipeline, in its own lane: it never waits for, nor holds up, the app's deploys.
// An app without `repo` preflights its own directory as it is now.
import type { AppCatalog } from '../apps/app-catalog.js';
import { localSourceDigest } from '../apps/local-source.js';
import { InvalidInputError } from '../errors.js';
import type { GitClient } from '../integrations/git/git-client.js';
import { requireApp, resolveAppRef } from './app-ref.js';
import type { DeployQueue } from './deploy-queue.js';
import { LOCAL_REF } from './manual-deploy.js';

export interface ManualPreflightResult {
  readonly app: string;
  readonly kind: 'preflight';
  readonly sagaId: string;
  readonly ref: string;
  readonly commitSha: string;
}

export class ManualPreflight {
  constructor(
    private readonly deps: {
      catalog: Pick<AppCatalog, 'get'> & Partial<Pick<AppCatalog, 'list'>>;
      git: Pick<GitClient, 'resolveRef'>;
      queue: Pick<DeployQueue, 'enqueue'>;
      onQueued: () => void;
    },
  ) {}

  async preflight(appName: string, requestedRef: unknown): Promise<ManualPreflightResult> {
    const app = requireApp(this.deps.catalog, appName, 'preflight');
    if (requestedRef !== undefined && typeof requestedRef !== 'string') throw new InvalidInputError('ref', 'must be a string');
    const repo = app.spec.repo;
    let target: { ref: string; commitSha: string };
    if (repo) {
      target = await resolveAppRef(repo, requestedRef, this.deps.git);
    } else {
      if (requestedRef?.trim()) {
        throw new InvalidInputError('ref', `${app.name} has no repo: its preflight checks its own directory (${app.dir}) as it is now, so no ref applies`);
      }
      target = { ref: LOCAL_REF, commitSha: await localSourceDigest(app.dir) };
    }
    const queued = await this.deps.queue.enqueue({
      app: app.name,
      kind: 'preflight',
      ref: target.ref,
      commitSha: target.commitSha,
      trigger: 'manual',
      deliveryId: null,
      forge: null,
      repoFullName: null,
      cloneUrl: repo?.url ?? '',
      prNumber: null,
    });
    this.deps.onQueued();
    return { app: app.name, kind: 'preflight', sagaId: queued.id, ref: target.ref, commitSha: target.commitSha };
  }
}
