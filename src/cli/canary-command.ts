// `norn canary <app>` (the latest deployment's canaries), `norn canary fail <app> [--yes]` and
// `norn promote <app> [--yes]`. Both decisions change what runs, so on a terminal they ask for the app's name
// first; without a terminal they need --yes.
import { apiCommand, UsageError, type CliIo } from './api-command.js';
import type { ApiClient } from './api-client.js';
import { canaryLines, decisionLines, type CanaryAnswer, type CanaryDecisionAnswer } from './canary-render.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';

export function canaryCommandWith(deps: { confirmer?: Confirmer } = {}) {
  return apiCommand({
    usage: 'norn canary <app> | norn canary fail <app> [--yes]',
    options: { yes: { type: 'boolean', short: 'y' } },
    positionals: { min: 1, max: 2 },
    async run({ api, args, io }) {
      const yes = args.values.yes === true;
      if (args.positionals.length === 1) {
        if (yes) throw new UsageError('--yes goes with canary fail');
        const app = args.positionals[0]!;
        io.out.write(`${canaryLines(await api.get<CanaryAnswer>(canaryPath(app))).join('\n')}\n`);
        return 0;
      }
      const [verb, app] = args.positionals as [string, string];
      if (verb !== 'fail') throw new UsageError(`unknown action ${verb}: the only one is fail (promote is norn promote <app>)`);
      return decide(api, io, { app, verb: 'fail', yes, confirmer: deps.confirmer ?? terminalConfirmer() });
    },
  });
}

export function promoteCommandWith(deps: { confirmer?: Confirmer } = {}) {
  return apiCommand({
    usage: 'norn promote <app> [--yes]',
    options: { yes: { type: 'boolean', short: 'y' } },
    positionals: { min: 1, max: 1 },
    async run({ api, args, io }) {
      return decide(api, io, { app: args.positionals[0]!, verb: 'promote', yes: args.values.yes === true, confirmer: deps.confirmer ?? terminalConfirmer() });
    },
  });
}

export const canaryCommand = canaryCommandWith();
export const promoteCommand = promoteCommandWith();

async function decide(api: ApiClient, io: CliIo, req: { app: string; verb: 'promote' | 'fail'; yes: boolean; confirmer: Confirmer }): Promise<number> {
  const { app, verb } = req;
  let action = verb === 'promote' ? `promote ${app}'s canaries, so the new version replaces every instance` : `fail ${app}'s canaries: they stop and the deploy fails`;
  if (!req.yes && req.confirmer.isInteractive) {
    // Show what is being decided, and stop before asking when there is nothing to decide.
    const state = await api.get<CanaryAnswer>(canaryPath(app));
    const d = state.deployment;
    if (!d?.waitingForPromotion) {
      io.err.write(`norn: no canary of ${app} waits for a decision${d ? ` (deployment ${d.id.slice(0, 8)} is ${d.status})` : ''}; nothing was done\n`);
      return 1;
    }
    io.err.write(`${canaryLines(state).join('\n')}\n`);
    const groups = d.groups.filter((g) => g.desiredCanaries > 0 && !g.promoted).map((g) => g.group).join(', ');
    action = verb === 'promote' ? `promote the canaries of ${groups} in deployment ${d.id.slice(0, 8)}, so the new version replaces every instance` : `fail deployment ${d.id.slice(0, 8)}: the canaries of ${groups} stop and the deploy fails`;
  }
  if (!(await confirmByName({ app, action, yes: req.yes }, req.confirmer, io))) return 1;
  const answer = await api.post<CanaryDecisionAnswer>(`${canaryPath(app)}/${verb}`, {});
  io.out.write(`${decisionLines(answer).join('\n')}\n`);
  return 0;
}

function canaryPath(app: string): string {
  return `/api/apps/${encodeURIComponent(app)}/canary`;
}
