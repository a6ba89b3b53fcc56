// `norn preflight <app> [ref] [--json]`: what a pull request's preflight does (clone, build without pushing, test,
// plan), on demand for a branch, tag or commit (default: the app's tracked branch), followed live like a deploy.
// It changes nothing that runs. Exit 0 when it passed, 1 when it failed.
import { apiCommand } from './api-command.js';
import type { QueuedDeploy } from './api-types.js';
import { followQueued, type FollowDeps } from './deploy-command.js';

export function preflightCommandWith(feedDeps: FollowDeps = {}) {
  return apiCommand({
    usage: 'norn preflight <app> [ref] [--json]   (ref: branch, tag or commit; default: the app\'s tracked branch)',
    options: { json: { type: 'boolean' } },
    positionals: { min: 1, max: 2 },
    async run({ api, args, io }) {
      const [app, ref] = args.positionals as [string, string | undefined];
      const answer = await api.post<{ deploys: QueuedDeploy[] }>(`/api/apps/${encodeURIComponent(app)}/preflight`, ref ? { ref } : {});
      return followQueued(api, { app, queued: answer.deploys[0], kind: 'preflight', json: args.values.json === true, io }, feedDeps);
    },
  });
}

export const preflightCommand = preflightCommandWith();
