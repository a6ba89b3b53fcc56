// Commit statuses on Gitea and Forgejo (same API): POST {url}/api/v1/repos/{owner}/{repo}/statuses/{sha} with
// `Authorization: token <token>`. States pending/success/error/failure (Gitea also knows warning).
import type { CommitStatus, SendResult, StatusClient, StatusTarget } from '../forge-status/status-client.js';
import { postStatus, resultOf } from '../forge-status/post-status.js';

export interface GiteaStatusConfig {
  /** Base URL of the Gitea or Forgejo instance, e.g. https://gitea.example.com. */
  readonly url: string;
  readonly token: string;
  readonly timeoutMs: number;
}

export class GiteaStatusClient implements StatusClient {
  /** Gitea stores descriptions as text with no documented limit; this keeps them one readable line. */
  readonly maxDescriptionLength = 255;

  constructor(
    private readonly config: GiteaStatusConfig,
    private readonly deps: { fetch: typeof fetch; now?: () => number },
  ) {}

  async send(target: StatusTarget, status: CommitStatus, signal: AbortSignal): Promise<SendResult> {
    const [owner, repo] = target.repoFullName.split('/');
    if (!owner || !repo) return { kind: 'permanent', reason: `repository name ${target.repoFullName} is not owner/name` };
    const url = `${this.config.url}/api/v1/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${encodeURIComponent(target.sha)}`;
    const answer = await postStatus(this.deps.fetch, {
      url,
      headers: { authorization: `token ${this.config.token}` },
      payload: { state: status.state === 'running' ? 'pending' : status.state, description: status.description, context: status.context, target_url: status.targetUrl },
      token: this.config.token,
      timeoutMs: this.config.timeoutMs,
      signal,
    });
    if ('kind' in answer) return answer;
    return resultOf(answer, this.config.token, this.deps.now?.() ?? Date.now());
  }
}
