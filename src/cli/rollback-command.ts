// `norn rollback <app> [--to <saga|image>] [--restore-snapshot] [--yes] [--json]`: asks the receiver for the plan
// (a dry run: nothing is queued), shows it, asks the operator to type the app's name (or takes --yes), then queues
// the rollback and follows it live like `norn deploy`. Exit 0 when the rollback succeeded.
import { apiCommand } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import { followDeploy } from './follow-deploy.js';
import type { LiveFeedDeps } from './live-feed.js';
import { planLines, rollbackAction } from './rollback-render.js';
import type { RollbackPlan } from '../deploys/rollback-plan.js';

interface RollbackAnswer {
  readonly dryRun: boolean;
  readonly sagaId?: string;
  readonly plan: RollbackPlan;
}

export function rollbackCommandWith(deps: { confirmer?: Confirmer } & LiveFeedDeps & { retryDelaysMs?: readonly number[] } = {}) {
  return apiCommand({
    usage: 'norn rollback <app> [--to <saga|image>] [--restore-snapshot] [--yes] [--json]',
    options: { to: { type: 'string' }, 'restore-snapshot': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ api, args, io }) {
      const [app] = args.positionals as [string];
      const path = `/api/apps/${encodeURIComponent(app)}/rollback`;
      const restoreSnapshot = args.values['restore-snapshot'] === true;
      const json = args.values.json === true;
      const request = { ...(typeof args.values.to === 'string' ? { to: args.values.to } : {}), restoreSnapshot };

      const { plan } = await api.post<RollbackAnswer>(path, { ...request, dryRun: true });
      // With --json stdout carries only the live envelopes; the plan goes to stderr.
      (json ? io.err : io.out).write(`${planLines(plan).join('\n')}\n`);
      if (!(await confirmByName({ app, action: rollbackAction(plan), yes: args.values.yes === true }, deps.confirmer ?? terminalConfirmer(), io))) return 1;

      const queued = await api.post<RollbackAnswer>(path, { ...request, ...(restoreSnapshot ? { confirm: true } : {}) });
      io.err.write(`rollback of ${app} queued: saga ${queued.sagaId}\n`);
      const progress = await followDeploy(api, io, { app, sagaId: queued.sagaId!, json, kind: 'rollback' }, deps);
      return progress.outcome === 'succeeded' ? 0 : 1;
    },
  });
}

export const rollbackCommand = rollbackCommandWith();
