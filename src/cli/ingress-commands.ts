// `norn ingress` (cloudflared's current rules) and `norn teardown <app> [--yes]` (remove the app's rules, so its
// hostnames stop reaching it, and on the Docker runtime its containers, after the operator typed the app's name).
import { apiCommand } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import { ingressLines, ownedHostnames } from './ingress-render.js';
import type { InstanceView } from './api-types.js';
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
        const running = await api.get<InstanceView[]>(`/api/apps/${encodeURIComponent(app)}/instances`).catch(() => []);
        if (hostnames.length === 0 && running.length === 0) {
          io.out.write(`${app} has no cloudflared rules; nothing to tear down\n`);
          return 0;
        }
        action = hostnames.length
          ? `remove ${app}'s cloudflared ingress rules, so ${hostnames.join(', ')} stop reaching it`
          : `stop ${app}'s ${running.length} running instance(s)`;
      }
      if (!(await confirmByName({ app, action, yes }, confirmer, io))) return 1;
      // The ingress first, so the hostnames stop reaching the app before it goes; its instances (the Docker
      // runtime's containers) are stopped even when the ingress could not be edited, and that error is raised after.
      const routes = await api.delete<TeardownResult>(`/api/apps/${encodeURIComponent(app)}/endpoints`).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      if (!(routes instanceof Error)) io.out.write(`${routes.message}\n`);
      const stopped = await api.delete<{ stopped: number; message: string }>(`/api/apps/${encodeURIComponent(app)}/instances`).catch(() => undefined);
      if (stopped && stopped.stopped > 0) io.out.write(`${stopped.message}\n`);
      if (routes instanceof Error) throw routes;
      return 0;
    },
  });
}

export const teardownCommand = teardownCommandWith();
