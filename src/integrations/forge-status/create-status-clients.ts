// One commit-status client per forge that has a token, for the composition root. `generic` (deploys from the
// bare-repository hook) is the client of the forge the repository is mirrored to, when one is named.
import type { Logger } from 'pino';
import { GiteaStatusClient } from '../gitea/gitea-status-client.js';
import { GitHubStatusClient } from '../github/github-status-client.js';
import { GitLabStatusClient } from '../gitlab/gitlab-status-client.js';
import type { StatusClient } from './status-client.js';

interface ForgeEndpoint {
  readonly url: string;
  readonly token: string;
}

export interface StatusClientSettings {
  readonly github?: ForgeEndpoint;
  readonly gitea?: ForgeEndpoint;
  readonly forgejo?: ForgeEndpoint;
  readonly gitlab?: ForgeEndpoint;
  readonly genericForge?: 'github' | 'gitea' | 'forgejo' | 'gitlab';
  readonly requestTimeoutMs: number;
}

export function createStatusClients(settings: StatusClientSettings, deps: { log: Logger; fetch: typeof fetch }): Record<string, StatusClient> {
  const timeoutMs = settings.requestTimeoutMs;
  const clients: Record<string, StatusClient> = {};
  if (settings.github) clients.github = new GitHubStatusClient({ token: settings.github.token, apiUrl: settings.github.url, timeoutMs }, { log: deps.log, fetch: deps.fetch });
  if (settings.gitea) clients.gitea = new GiteaStatusClient({ ...settings.gitea, timeoutMs }, { fetch: deps.fetch });
  if (settings.forgejo) clients.forgejo = new GiteaStatusClient({ ...settings.forgejo, timeoutMs }, { fetch: deps.fetch });
  if (settings.gitlab) clients.gitlab = new GitLabStatusClient({ ...settings.gitlab, timeoutMs }, { fetch: deps.fetch });
  const mirror = settings.genericForge ? clients[settings.genericForge] : undefined;
  if (mirror) clients.generic = mirror;
  return clients;
}
