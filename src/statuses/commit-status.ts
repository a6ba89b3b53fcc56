// The forge-neutral commit status and the contract every forge's status client meets.
import type { DeployKind } from '../events/deploy-queued.js';

/**
 * `pending` while queued, `running` once a step started (GitHub and Gitea have no running state and get `pending`;
 * GitLab's state machine does), then one final state.
 */
export type StatusState = 'pending' | 'running' | 'success' | 'failure' | 'error';

export const FINAL_STATES: readonly StatusState[] = ['success', 'failure', 'error'];

export function isFinal(state: StatusState): boolean {
  return FINAL_STATES.includes(state);
}

export interface CommitStatus {
  readonly state: StatusState;
  readonly description: string;
  readonly context: string;
  readonly targetUrl: string;
}

export interface StatusTarget {
  /** "owner/name" (GitLab: the project's full path, groups included). */
  readonly repoFullName: string;
  readonly sha: string;
}

/**
 * What one attempt came to. `retry` with `scope: 'forge'` is a rate limit: the token is spent, so nothing else
 * goes to that forge before `retryAfterMs`. `permanent` is a refusal retrying cannot fix (bad token, unknown
 * repo, invalid status). Reasons never hold the token.
 */
export type SendResult =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number; readonly scope: 'request' | 'forge' }
  | { readonly kind: 'permanent'; readonly reason: string };

export interface StatusClient {
  /** Longest description the forge accepts; longer ones are trimmed before sending. */
  readonly maxDescriptionLength: number;
  send(target: StatusTarget, status: CommitStatus, signal: AbortSignal): Promise<SendResult>;
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

/** Removes `secret` from text that came back from a forge, in case an error page echoes the request. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}
