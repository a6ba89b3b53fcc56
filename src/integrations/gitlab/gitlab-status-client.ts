// Commit statuses on GitLab: POST {url}/api/v4/projects/{url-encoded path}/statuses/{sha} with PRIVATE-TOKEN.
// GitLab's statuses are a state machine (pending -> running -> success/failed/canceled) and it answers 400
// "Cannot transition status via :run from :running" when a context is set to the state it already has. That is
// the commit already saying what we want, so it counts as delivered (the description keeps its earlier text).
import { errorMessage } from '../../errors.js';
import { classifyResponse, upstreamMessageOf } from '../../statuses/classify-response.js';
import { redact, type CommitStatus, type SendResult, type StatusClient, type StatusState, type StatusTarget } from '../../statuses/commit-status.js';

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
    let res: Response;
    let body: string;
    try {
      res = await this.deps.fetch(url, {
        method: 'POST',
        headers: { 'private-token': this.config.token, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ state: GITLAB_STATE[status.state], name: status.context, description: status.description, target_url: status.targetUrl }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.timeoutMs)]),
      });
      body = await res.text();
    } catch (err) {
      return { kind: 'retry', scope: 'request', reason: redact(`network error: ${errorMessage(err)}`, this.config.token) };
    }
    const message = upstreamMessageOf(body);
    if (res.status === 400 && /cannot transition status/i.test(message)) return { kind: 'delivered' };
    const result = classifyResponse(res.status, (name) => res.headers.get(name), message, this.deps.now?.() ?? Date.now());
    return 'reason' in result ? { ...result, reason: redact(result.reason, this.config.token) } : result;
  }
}
