// `norn teardown <app>` and DELETE /api/apps/:app/endpoints: remove the cloudflared rules the app owns (those
// marked `# norn:<app>`), leaving every other rule, and reload cloudflared when something was removed.
import type { CloudflaredIngress, ReloadOutcome } from './cloudflared-ingress.js';
import { describeIngressChange } from './describe-ingress-change.js';

export interface TeardownResult {
  readonly app: string;
  readonly configPath: string;
  /** Hostnames whose rules were removed; empty when the app had none. */
  readonly removed: readonly string[];
  readonly reload: ReloadOutcome;
  readonly message: string;
}

/**
 * Throws CloudflaredConfigError when the file is missing, invalid or locked (nothing is written then), and
 * CommandError when the rules were removed but the reload command failed.
 */
export async function teardownEndpoints(
  ingress: Pick<CloudflaredIngress, 'removeApp'>,
  app: string,
  opts: { signal?: AbortSignal } = {},
): Promise<TeardownResult> {
  const change = await ingress.removeApp(app, opts);
  const message = change.changed ? describeIngressChange(change) : `${app} has no cloudflared rules in ${change.configPath}`;
  return { app, configPath: change.configPath, removed: change.removed, reload: change.reload, message };
}
