// Commit statuses on GitHub (and GitHub Enterprise): POST /repos/{owner}/{repo}/statuses/{sha} through Octokit.
// The durable status outbox owns retrying, so the plugins are set not to fight it: plugin-retry makes no retries
// of its own, and plugin-throttling only spaces writes (GitHub asks for a second between mutating requests) and
// declines to wait out rate limits (its handlers answer false), so the error comes back here and the outbox
// reschedules the status from the response's headers instead of holding a request open for minutes.
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import type { Logger } from 'pino';
import { noAnswerReason } from '../../errors.js';
import { classifyResponse } from '../forge-status/classify-response.js';
import { redact, type CommitStatus, type SendResult, type StatusClient, type StatusTarget } from '../forge-status/status-client.js';

const StatusOctokit = Octokit.plugin(retry, throttling);

export interface GitHubStatusConfig {
  readonly token: string;
  /** https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server. */
  readonly apiUrl: string;
  readonly timeoutMs: number;
  /** Spacing of writes through this client; GitHub's guidance is one second. */
  readonly minWriteIntervalMs?: number;
}

interface OctokitRequestError {
  status: number;
  message: string;
  response?: { headers: Record<string, string | number | undefined>; data?: unknown };
}

export class GitHubStatusClient implements StatusClient {
  readonly maxDescriptionLength = 140;
  private readonly octokit: InstanceType<typeof StatusOctokit>;

  constructor(
    private readonly config: GitHubStatusConfig,
    private readonly deps: { log: Logger; fetch?: typeof fetch; now?: () => number },
  ) {
    const log = deps.log.child({ forge: 'github' });
    this.octokit = new StatusOctokit({
      auth: config.token,
      baseUrl: config.apiUrl,
      userAgent: 'norn-receiver',
      request: { fetch: deps.fetch, retries: 0 },
      retry: { retries: 0 },
      throttle: {
        // A group of our own, so the spacing is per client rather than the plugin's process-wide default.
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: config.minWriteIntervalMs ?? 1000 }),
        onRateLimit: () => false,
        onSecondaryRateLimit: () => false,
      },
      // Octokit's request log names method, path and status, never the token; the outbox logs outcomes itself.
      log: { debug: (m: string) => log.debug(m), info: (m: string) => log.debug(m), warn: (m: string) => log.warn(m), error: (m: string) => log.debug(m) },
    });
  }

  async send(target: StatusTarget, status: CommitStatus, signal: AbortSignal): Promise<SendResult> {
    const [owner, repo] = target.repoFullName.split('/');
    if (!owner || !repo) return { kind: 'permanent', reason: `repository name ${target.repoFullName} is not owner/name` };
    try {
      await this.octokit.rest.repos.createCommitStatus({
        owner,
        repo,
        sha: target.sha,
        state: status.state === 'running' ? 'pending' : status.state,
        description: status.description,
        context: status.context,
        target_url: status.targetUrl,
        request: { signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.timeoutMs)]) },
      });
      return { kind: 'delivered' };
    } catch (err) {
      return this.classify(err);
    }
  }

  private classify(err: unknown): SendResult {
    const e = err as Partial<OctokitRequestError> & { name?: string };
    const now = this.deps.now?.() ?? Date.now();
    // No response: the connection failed, was dropped or timed out (Octokit reports these as status 500).
    if (!e.response || typeof e.status !== 'number') {
      const what = e.name === 'AbortError' || e.name === 'TimeoutError' ? 'timed out or aborted' : `no answer from ${this.config.apiUrl} (${noAnswerReason(err)})`;
      return { kind: 'retry', scope: 'request', reason: redact(what, this.config.token) };
    }
    const headers = e.response.headers;
    const header = (name: string) => {
      const v = headers[name];
      return v === undefined ? undefined : String(v);
    };
    const result = classifyResponse(e.status, header, e.message ?? '', now);
    return 'reason' in result ? { ...result, reason: redact(result.reason, this.config.token) } : result;
  }
}
