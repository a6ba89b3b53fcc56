// Builds real signed deliveries from the captured forge payloads, pointed at a test repository and commit.
import { createHmac } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { readFixture } from './fixtures-dir.js';

export interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function hmacHex(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** GitHub's push fixture, re-pointed at `repoUrl`/`ref`/`sha`, signed with X-Hub-Signature-256. */
export function githubPush(opts: { secret: string; repoUrl: string; ref?: string; sha: string; message?: string; deliveryId?: string }): Delivery {
  const payload = JSON.parse(readFixture('github/octokit-webhooks/push.branch-created.json').toString('utf8'));
  payload.ref = opts.ref ?? 'refs/heads/main';
  payload.before = '0'.repeat(40);
  payload.after = opts.sha;
  payload.deleted = false;
  payload.created = true;
  payload.repository.clone_url = opts.repoUrl;
  payload.repository.git_url = opts.repoUrl;
  payload.repository.ssh_url = opts.repoUrl;
  payload.repository.html_url = opts.repoUrl;
  payload.repository.url = opts.repoUrl;
  payload.head_commit = { id: opts.sha, message: opts.message ?? 'deploy me', timestamp: '2026-11-27T00:00:00Z', author: { name: 'Test', email: 't@example.com' }, added: [], removed: [], modified: ['README.md'] };
  payload.commits = [payload.head_commit];
  const body = JSON.stringify(payload);
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': opts.deliveryId ?? randomUUID(),
      'x-hub-signature-256': `sha256=${hmacHex(opts.secret, body)}`,
    },
    body,
  };
}

/** Gitea's push fixture, re-pointed and signed with X-Gitea-Signature (Gitea also sends X-GitHub-Event). */
export function giteaPush(opts: { secret: string; repoUrl: string; ref?: string; sha: string; deliveryId?: string }): Delivery {
  const payload = JSON.parse(readFixture('gitea/woodpecker/HookPush.json').toString('utf8'));
  payload.ref = opts.ref ?? 'refs/heads/main';
  payload.after = opts.sha;
  payload.commits[0].id = opts.sha;
  payload.repository.clone_url = opts.repoUrl;
  payload.repository.ssh_url = opts.repoUrl;
  payload.repository.html_url = opts.repoUrl;
  const body = JSON.stringify(payload);
  const id = opts.deliveryId ?? randomUUID();
  return {
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'push',
      'x-gitea-delivery': id,
      'x-github-event': 'push',
      'x-github-delivery': id,
      'x-gitea-signature': hmacHex(opts.secret, body),
    },
    body,
  };
}

export async function post(url: string, d: Delivery): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** GitHub's pull_request.opened fixture, re-pointed at `repoUrl` with head `sha` and base `base`. */
export function githubPullRequest(opts: { secret: string; repoUrl: string; sha: string; base?: string; action?: string; number?: number }): Delivery {
  const payload = JSON.parse(readFixture('github/octokit-webhooks/pull_request.opened.json').toString('utf8'));
  payload.action = opts.action ?? 'opened';
  payload.number = opts.number ?? payload.number;
  payload.pull_request.number = payload.number;
  payload.pull_request.base.ref = opts.base ?? 'main';
  payload.pull_request.head.sha = opts.sha;
  for (const key of ['clone_url', 'git_url', 'ssh_url', 'html_url', 'url']) payload.repository[key] = opts.repoUrl;
  const body = JSON.stringify(payload);
  return {
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${hmacHex(opts.secret, body)}` },
    body,
  };
}

/**
 * A Gitea pull_request delivery: Gitea's push fixture supplies the repository and sender objects as Gitea sends
 * them (there is no captured Gitea pull-request payload), wrapped in the pull-request envelope Gitea documents.
 */
export function giteaPullRequest(opts: { secret: string; repoUrl: string; sha: string; base?: string; action?: string; number?: number }): Delivery {
  const push = JSON.parse(readFixture('gitea/woodpecker/HookPush.json').toString('utf8'));
  for (const key of ['clone_url', 'ssh_url', 'html_url']) push.repository[key] = opts.repoUrl;
  const number = opts.number ?? 3;
  const payload = {
    action: opts.action ?? 'opened',
    number,
    pull_request: {
      id: 100 + number,
      number,
      title: 'change',
      state: 'open',
      head: { label: 'feature', ref: 'feature', sha: opts.sha, repo: push.repository },
      base: { label: opts.base ?? 'main', ref: opts.base ?? 'main', sha: push.before, repo: push.repository },
    },
    repository: push.repository,
    sender: push.sender,
  };
  const body = JSON.stringify(payload);
  const id = randomUUID();
  return {
    headers: { 'content-type': 'application/json', 'x-gitea-event': 'pull_request', 'x-gitea-delivery': id, 'x-github-event': 'pull_request', 'x-github-delivery': id, 'x-gitea-signature': hmacHex(opts.secret, body) },
    body,
  };
}
