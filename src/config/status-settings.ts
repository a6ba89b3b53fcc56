// Commit-status settings, parsed once by load-config.ts into Config.statuses. A forge without a token gets no
// statuses; tokens are only ever handed to that forge's client.
import { ConfigError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ForgeEndpoint {
  readonly url: string;
  readonly token: string;
}

export interface StatusConfig {
  readonly github?: ForgeEndpoint;
  readonly gitea?: ForgeEndpoint;
  readonly forgejo?: ForgeEndpoint;
  readonly gitlab?: ForgeEndpoint;
  /** Where statuses of deploys from the generic (bare repository) hook go: a mirror's forge. */
  readonly genericForge?: 'github' | 'gitea' | 'forgejo' | 'gitlab';
  readonly pollIntervalMs: number;
  /** First retry delay; doubles per attempt up to `retryMaxMs` (a forge's own hint wins). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** A status still undelivered this long after it was written is dropped: the commit has moved on. */
  readonly giveUpAfterMs: number;
  /** Time limit of one request to a forge. */
  readonly requestTimeoutMs: number;
}

/** The variables statusConfigFromEnv reads, for the settings table (`norn serve --help`). */
export const STATUS_SETTINGS = [
  { name: 'NORN_GITHUB_TOKEN', help: 'token that sets commit statuses on GitHub (statuses are off without it)', secret: true },
  { name: 'NORN_GITHUB_API_URL', help: 'GitHub API base URL (GitHub Enterprise: https://host/api/v3)', default: 'https://api.github.com' },
  { name: 'NORN_GITEA_URL', help: 'Gitea base URL for commit statuses, e.g. https://gitea.example.com' },
  { name: 'NORN_GITEA_TOKEN', help: 'Gitea token that sets commit statuses', secret: true },
  { name: 'NORN_FORGEJO_URL', help: 'Forgejo base URL for commit statuses (default: NORN_GITEA_URL)' },
  { name: 'NORN_FORGEJO_TOKEN', help: 'Forgejo token that sets commit statuses (default: NORN_GITEA_TOKEN)', secret: true },
  { name: 'NORN_GITLAB_URL', help: 'GitLab base URL for commit statuses', default: 'https://gitlab.com' },
  { name: 'NORN_GITLAB_TOKEN', help: 'GitLab token (api scope) that sets commit statuses', secret: true },
  { name: 'NORN_GENERIC_STATUS_FORGE', help: 'forge (github, gitea, forgejo, gitlab) that gets the statuses of pushes from the bare-repository hook, e.g. where the repo is mirrored; repo named by norn.fullName' },
  { name: 'NORN_STATUS_POLL_INTERVAL_MS', help: 'how often the status outbox looks for statuses to send', default: '1000' },
  { name: 'NORN_STATUS_RETRY_BASE_MS', help: 'first retry delay of a failed status delivery (doubles per attempt)', default: '2000' },
  { name: 'NORN_STATUS_RETRY_MAX_SECONDS', help: 'longest delay between status delivery attempts', default: '600' },
  { name: 'NORN_STATUS_GIVE_UP_HOURS', help: 'drop a status still undelivered after this long', default: '24' },
  { name: 'NORN_STATUS_TIMEOUT_SECONDS', help: 'time limit of one request to a forge status API', default: '15' },
] as const;

export function statusConfigFromEnv(env: Env): StatusConfig {
  const text = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const num = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(name, `must be a number from ${min} to ${max}`);
    return n;
  };
  const endpoint = (urlVar: string, tokenVar: string, url: string | undefined, token: string | undefined): ForgeEndpoint | undefined => {
    if (!token) return undefined;
    if (!url) throw new ConfigError(urlVar, `must be set when ${tokenVar} is`);
    return { url: httpUrl(urlVar, url), token };
  };
  const giteaUrl = text('NORN_GITEA_URL');
  const giteaToken = text('NORN_GITEA_TOKEN');
  return {
    github: endpoint('NORN_GITHUB_API_URL', 'NORN_GITHUB_TOKEN', text('NORN_GITHUB_API_URL') ?? 'https://api.github.com', text('NORN_GITHUB_TOKEN')),
    gitea: endpoint('NORN_GITEA_URL', 'NORN_GITEA_TOKEN', giteaUrl, giteaToken),
    forgejo: endpoint('NORN_FORGEJO_URL', 'NORN_FORGEJO_TOKEN', text('NORN_FORGEJO_URL') ?? giteaUrl, text('NORN_FORGEJO_TOKEN') ?? giteaToken),
    gitlab: endpoint('NORN_GITLAB_URL', 'NORN_GITLAB_TOKEN', text('NORN_GITLAB_URL') ?? 'https://gitlab.com', text('NORN_GITLAB_TOKEN')),
    genericForge: genericForge(text('NORN_GENERIC_STATUS_FORGE')),
    pollIntervalMs: num('NORN_STATUS_POLL_INTERVAL_MS', 1000, 10, 60_000),
    retryBaseMs: num('NORN_STATUS_RETRY_BASE_MS', 2000, 1, 600_000),
    retryMaxMs: num('NORN_STATUS_RETRY_MAX_SECONDS', 600, 1, 24 * 3600) * 1000,
    giveUpAfterMs: num('NORN_STATUS_GIVE_UP_HOURS', 24, 0.001, 24 * 30) * 3600_000,
    requestTimeoutMs: num('NORN_STATUS_TIMEOUT_SECONDS', 15, 1, 600) * 1000,
  };
}

function genericForge(value: string | undefined): StatusConfig['genericForge'] {
  if (value === undefined) return undefined;
  if (value === 'github' || value === 'gitea' || value === 'forgejo' || value === 'gitlab') return value;
  throw new ConfigError('NORN_GENERIC_STATUS_FORGE', 'must be one of github, gitea, forgejo, gitlab');
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be an http(s) URL');
  return value.replace(/\/+$/, '');
}
