// Which commit statuses the outbox sends: final states, the context per app and kind, descriptions a forge accepts.
// The status and client contract themselves live beside the clients, in integrations/forge-status/status-client.ts.
import type { DeployKind } from '../events/deploy-queued.js';
import type { StatusState } from '../integrations/forge-status/status-client.js';

export const FINAL_STATES: readonly StatusState[] = ['success', 'failure', 'error'];

export function isFinal(state: StatusState): boolean {
  return FINAL_STATES.includes(state);
}

/** One context per app and kind: `norn/deploy/<app>`, or `norn/preflight/<app>` for pull-request preflights. */
export function statusContext(kind: DeployKind, app: string): string {
  return `norn/${kind}/${app}`;
}

/** Trims to `max` characters (code points, as forges count them), marking the cut with an ellipsis. */
export function trimDescription(text: string, max: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}
