// The contract every forge's commit-status client meets, and the forge-neutral status it sends. The status
// outbox (src/statuses/) decides what to send and when; the clients only send and say what the forge answered.

/**
 * `pending` while queued, `running` once a step started (GitHub and Gitea have no running state and get `pending`;
 * GitLab's state machine does), then one final state.
 */
export type StatusState = 'pending' | 'running' | 'success' | 'failure' | 'error';

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

/** Removes `secret` from text that came back from a forge, in case an error page echoes the request. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}
