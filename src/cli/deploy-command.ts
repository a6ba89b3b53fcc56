// `norn deploy <app> [ref] [--json]`: ask the service to deploy, then follow that saga on /ws until it ends.
// Exit 0 when it succeeded, 1 when it failed (or was superseded or interrupted), with the failed step's error.
import { apiCommand, type CliIo } from './api-command.js';
import type { ApiClient } from './api-client.js';
import type { QueuedDeploy } from './api-types.js';
import type { RunKind } from './deploy-progress.js';
import { followDeploy } from './follow-deploy.js';
import type { LiveFeedDeps } from './live-feed.js';

export type FollowDeps = LiveFeedDeps & { retryDelaysMs?: readonly number[] };

export function deployCommandWith(feedDeps: FollowDeps = {}) {
  return apiCommand({
    usage: 'norn deploy <app> [ref] [--json]   (ref: branch, tag or commit; default: the app\'s tracked branch)',
    options: { json: { type: 'boolean' } },
    positionals: { min: 1, max: 2 },
    async run({ api, args, io }) {
      const [app, ref] = args.positionals as [string, string | undefined];
      const answer = await api.post<{ deploys: QueuedDeploy[] }>(`/api/apps/${encodeURIComponent(app)}/deploy`, ref ? { ref } : {});
      return followQueued(api, { app, queued: answer.deploys[0], kind: 'deploy', json: args.values.json === true, io }, feedDeps);
    },
  });
}

export const deployCommand = deployCommandWith();
/**
 * Follows a queued run (a deploy, a preflight or a rollback) on the live feed until it ends, showing each step as it
 * goes. Returns the exit code: 0 when it succeeded, 1 otherwise.
 */
export async function followQueued(
  api: ApiClient,
  run: { app: string; queued: QueuedDeploy | undefined; kind: RunKind; json: boolean; io: CliIo },
  feedDeps: FollowDeps,
): Promise<number> {
  const { app, queued, io } = run;
  if (!queued) {
    io.err.write('norn: the receiver queued nothing\n');
    return 1;
  }
  const progress = await followDeploy(api, io, { app, sagaId: queued.sagaId, kind: run.kind, json: run.json }, feedDeps);
  return progress.outcome === 'succeeded' ? 0 : 1;
}
