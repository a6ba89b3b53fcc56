// `norn deploy <app> [ref] [--json]`: ask the service to deploy, then follow that saga on /ws until it ends.
// Exit 0 when it succeeded, 1 when it failed (or was superseded or interrupted), with the failed step's error.
import { apiCommand } from './api-command.js';
import type { QueuedDeploy } from './api-types.js';
import { followDeploy } from './follow-deploy.js';
import type { LiveFeedDeps } from './live-feed.js';

export function deployCommandWith(feedDeps: LiveFeedDeps & { retryDelaysMs?: readonly number[] } = {}) {
  return apiCommand({
    usage: 'norn deploy <app> [ref] [--json]   (ref: branch, tag or commit; default: the app\'s tracked branch)',
    options: { json: { type: 'boolean' } },
    positionals: { min: 1, max: 2 },
    async run({ api, args, io }) {
      const [app, ref] = args.positionals as [string, string | undefined];
      const answer = await api.post<{ deploys: QueuedDeploy[] }>(`/api/apps/${encodeURIComponent(app)}/deploy`, ref ? { ref } : {});
      const queued = answer.deploys[0];
      if (!queued) {
        io.err.write('norn: the receiver queued nothing\n');
        return 1;
      }
      const progress = await followDeploy(api, io, { app, sagaId: queued.sagaId, json: args.values.json === true }, feedDeps);
      return progress.outcome === 'succeeded' ? 0 : 1;
    },
  });
}

export const deployCommand = deployCommandWith();
