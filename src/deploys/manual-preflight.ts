// `POST /api/apps/:app/preflight {ref}`: the pull-request preflight (clone, build without push, test, plan) on
// demand, for any ref of the app's remote (default its tracked branch). It is queued like a deploy of kind
// `preflight`, so it runs the preflight pipeline, in its own lane: it never waits for, nor holds up, the app's deploys.
// An app without `repo` preflights its own directory as it is now.
//
// Its result is reported as the commit status `norn/preflight/<app>` when the receiver knows which forge repository
// the app's remote is: from the app's latest run that a forge delivered for the same clone URL (a push or a pull
// request). A manual request carries no forge of its own, and guessing one from a URL could post to the wrong
// repository; without such a run it reports no status, as a manual deploy does.
import type { AppCatalog } from '../apps/app-catalog.js';
import { localSourceDigest } from '../apps/local-source.js';
import { InvalidInputError } from '../errors.js';
import type { GitClient } from '../integrations/git/git-client.js';
import { requireApp, resolveAppRef } from './app-ref.js';
import type { DeployHistory } from './deploy-history.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';
import type { DeployRecord } from './deploy-record.js';
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
      lifecycle: Pick<DeployLifecycle, 'queue'>;
      history: Pick<DeployHistory, 'list'>;
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
    const origin = repo ? await this.forgeOrigin(app.name, repo.url) : undefined;
    const queued = await this.deps.lifecycle.queue({
      app: app.name,
      kind: 'preflight',
      ref: target.ref,
      commitSha: target.commitSha,
      trigger: 'manual',
      deliveryId: null,
      forge: origin?.forge ?? null,
      repoFullName: origin?.repoFullName ?? null,
      cloneUrl: repo?.url ?? '',
      prNumber: null,
    });
    this.deps.onQueued();
    return { app: app.name, kind: 'preflight', sagaId: queued.id, ref: target.ref, commitSha: target.commitSha };
  }

  /** The forge and repository of the app's latest forge-delivered run from this same remote, if any. */
  private async forgeOrigin(app: string, cloneUrl: string): Promise<{ forge: NonNullable<DeployRecord['forge']>; repoFullName: string } | undefined> {
    const recent = await this.deps.history.list({ app, limit: 50 });
    const run = recent.find((d) => d.forge !== null && d.repoFullName !== null && d.cloneUrl === cloneUrl);
    return run ? { forge: run.forge!, repoFullName: run.repoFullName! } : undefined;
  }
}
