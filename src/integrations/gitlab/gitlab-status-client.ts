// Commit statuses on GitLab: POST {url}/api/v4/projects/{url-encoded path}/statuses/{sha} with PRIVATE-TOKEN.
// GitLab's statuses are a state machine (pending -> running -> success/failed/canceled) and it answers 400
// "Cannot transition status via :run from :running" when a context is set to the state it already has. That is
// the commit already saying what we want, so it counts as delivered (the description keeps its earlier text).
import type { CommitStatus, SendResult, StatusClient, StatusState, StatusTarget } from '../forge-status/status-client.js';
import { postStatus, resultOf } from '../forge-status/post-status.js';

export interface GitLabStatusConfig {
  /** https://gitlab.com or a self-managed instance's base URL. */
  readonly url: string;
  readonly token: string;
  readonly timeoutMs: number;
}

const GITLAB_STATE: Record<StatusState, string> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  // A superseded or interrupted deploy did not fail on its merits: GitLab's closest state is canceled.
  error: 'canceled',
};

export class GitLabStatusClient implements StatusClient {
  readonly maxDescriptionLength = 255;

  constructor(
    private readonly config: GitLabStatusConfig,
    private readonly deps: { fetch: typeof fetch; now?: () => number },
  ) {}

  async send(target: StatusTarget, status: CommitStatus, signal: AbortSignal): Promise<SendResult> {
    const url = `${this.config.url}/api/v4/projects/${encodeURIComponent(target.repoFullName)}/statuses/${encodeURIComponent(target.sha)}`;
    const answer = await postStatus(this.deps.fetch, {
      url,
      headers: { 'private-token': this.config.token },
      payload: { state: GITLAB_STATE[status.state], name: status.context, description: status.description, target_url: status.targetUrl },
      token: this.config.token,
      timeoutMs: this.config.timeoutMs,
      signal,
    });
    if ('kind' in answer) return answer;
    if (answer.status === 400 && /cannot transition status/i.test(answer.message)) return { kind: 'delivered' };
    return resultOf(answer, this.config.token, this.deps.now?.() ?? Date.now());
  }
}
