// Commit statuses on Gitea and Forgejo (same API): POST {url}/api/v1/repos/{owner}/{repo}/statuses/{sha} with
// `Authorization: token <token>`. States pending/success/error/failure (Gitea also knows warning).
import { errorMessage } from '../../errors.js';
import { classifyResponse, upstreamMessageOf } from '../../statuses/classify-response.js';
import { redact, type CommitStatus, type SendResult, type StatusClient, type StatusTarget } from '../../statuses/commit-status.js';

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
    let res: Response;
    let body: string;
    try {
      res = await this.deps.fetch(url, {
        method: 'POST',
        headers: { authorization: `token ${this.config.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          state: status.state === 'running' ? 'pending' : status.state,
          description: status.description,
          context: status.context,
          target_url: status.targetUrl,
        }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.timeoutMs)]),
      });
      body = await res.text();
    } catch (err) {
      return { kind: 'retry', scope: 'request', reason: redact(`network error: ${errorMessage(err)}`, this.config.token) };
    }
    const result = classifyResponse(res.status, (name) => res.headers.get(name), upstreamMessageOf(body), this.deps.now?.() ?? Date.now());
    return 'reason' in result ? { ...result, reason: redact(result.reason, this.config.token) } : result;
  }
}
