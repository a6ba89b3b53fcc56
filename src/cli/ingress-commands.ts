// `norn ingress` (cloudflared's current rules) and `norn teardown <app> [--yes]` (remove the app's rules, so its
// hostnames stop reaching it, after the operator typed the app's name).
import { apiCommand } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import { ingressLines, ownedHostnames } from './ingress-render.js';
import type { IngressListing, TeardownResult } from './ops-api-types.js';

export const ingressCommand = apiCommand({
  usage: 'norn ingress',
  positionals: { min: 0, max: 0 },
  async run({ api, io }) {
    const listing = await api.get<IngressListing>('/api/cloudflared/ingress');
    io.out.write(`${ingressLines(listing).join('\n')}\n`);
    return 0;
  },
});

export function teardownCommandWith(deps: { confirmer?: Confirmer } = {}) {
  return apiCommand({
    usage: 'norn teardown <app> [--yes]',
    options: { yes: { type: 'boolean', short: 'y' } },
    positionals: { min: 1, max: 1 },
    async run({ api, args, io }) {
      const app = args.positionals[0]!;
      const yes = args.values.yes === true;
      const confirmer = deps.confirmer ?? terminalConfirmer();
      let action = `remove ${app}'s cloudflared ingress rules`;
      if (!yes && confirmer.isInteractive) {
        // Name what goes away; with nothing to remove there is nothing to confirm.
        const hostnames = ownedHostnames(await api.get<IngressListing>('/api/cloudflared/ingress'), app);
        if (hostnames.length === 0) {
          io.out.write(`${app} has no cloudflared rules; nothing to tear down\n`);
          return 0;
        }
        action = `remove ${app}'s cloudflared ingress rules, so ${hostnames.join(', ')} stop reaching it`;
      }
      if (!(await confirmByName({ app, action, yes }, confirmer, io))) return 1;
      const result = await api.delete<TeardownResult>(`/api/apps/${encodeURIComponent(app)}/endpoints`);
      io.out.write(`${result.message}\n`);
      return 0;
    },
  });
}

export const teardownCommand = teardownCommandWith();
