// `norn ingress` (cloudflared's current rules) and `norn teardown <app> [--yes]` (remove the app's rules, so its
// hostnames stop reaching it, and on the Docker runtime its containers, after the operator typed the app's name).
import { apiCommand } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import { ingressLines, ownedHostnames } from './ingress-render.js';
import { ApiError, type ApiClient } from './api-client.js';
import type { IngressListing, TeardownPreview, TeardownResult } from './ops-api-types.js';

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
      if (!yes) {
        // Name what goes away, as the receiver says its runtime will do it; with nothing to remove there is nothing to confirm.
        const hostnames = ownedHostnames(await api.get<IngressListing>('/api/cloudflared/ingress'), app);
        const preview = await teardownPreview(api, app);
        const what = teardownAction(app, hostnames, preview);
        const leaves = preview?.note ? ` (${preview.note})` : '';
        if (!what) {
          io.out.write(`${app} has no cloudflared rules and teardown would stop none of its instances${leaves}; nothing to tear down\n`);
          return 0;
        }
        // What teardown leaves running is said before the question, so nobody confirms expecting it gone.
        if (preview?.note) io.out.write(`${preview.note}\n`);
        action = what;
      }
      if (!(await confirmByName({ app, action, yes }, confirmer, io))) return 1;
      // The ingress first, so the hostnames stop reaching the app before it goes; its instances (the Docker
      // runtime's containers) are stopped even when the ingress could not be edited, and that error is raised after.
      const routes = await api.delete<TeardownResult>(`/api/apps/${encodeURIComponent(app)}/endpoints`).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      if (!(routes instanceof Error)) io.out.write(`${routes.message}\n`);
      const stopped = await api.delete<{ stopped: number; message: string; note?: string | null }>(`/api/apps/${encodeURIComponent(app)}/instances`).catch(() => undefined);
      if (stopped && (stopped.stopped > 0 || (yes && stopped.note))) io.out.write(`${stopped.message}\n`);
      if (routes instanceof Error) throw routes;
      return 0;
    },
  });
}

/**
 * What the receiver's runtime would stop. Undefined from a receiver older than the preview (404), whose teardown
 * still stops the Docker runtime's containers and no Nomad job: the question then says it cannot tell.
 */
async function teardownPreview(api: ApiClient, app: string): Promise<TeardownPreview | undefined> {
  try {
    return await api.get<TeardownPreview>(`/api/apps/${encodeURIComponent(app)}/instances/teardown`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Completes "This will …"; undefined when teardown would change nothing. */
function teardownAction(app: string, hostnames: readonly string[], preview: TeardownPreview | undefined): string | undefined {
  const parts: string[] = [];
  if (hostnames.length > 0) parts.push(`remove ${app}'s cloudflared ingress rules, so ${hostnames.join(', ')} stop reaching it`);
  const whose = parts.length > 0 ? 'its' : `${app}'s`;
  if (!preview) parts.push(`stop and remove ${whose} instances if its runtime does so on teardown (this receiver does not say)`);
  else if (preview.stops > 0) parts.push(`stop and remove ${whose} ${preview.stops} instance(s)`);
  return parts.length > 0 ? parts.join(', and ') : undefined;
}

export const teardownCommand = teardownCommandWith();
