// The receiver's integrations as checks: for each, the settings that configure it (set or unset, never values),
// where it is, and a cheap probe that proves it answers. A new integration (a deploy runtime, say) is one more
// entry in the list `integrationChecks` returns.
import { existsSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { Config } from '../config/load-config.js';
import { loadAgeIdentities } from '../integrations/sops/age-identities.js';
import type { IntegrationCheck } from './integration-report.js';

export interface IntegrationClients {
  /** Which runtime deploys go to, and why (runtime/select-runtime.ts). */
  readonly runtime?: { describe(): Promise<{ runtime: string | undefined; reason: string }> };
  readonly nomad: { leader(opts?: { signal?: AbortSignal }): Promise<string> };
  readonly docker: { readonly address: string; version(signal?: AbortSignal): Promise<{ version: string; apiVersion: string }> };
  /** Absent when NORN_POSTGRES_URL is not set. */
  readonly postgres?: { readonly address: string; serverVersion(timeoutMs: number): Promise<string> };
  readonly ingress: { readonly configPath: string; listRules(): Promise<{ rules: readonly unknown[]; problems: readonly string[] }> };
  /** Absent when CONSUL_HTTP_ADDR is not set. */
  readonly consul?: { readonly baseUrl: string };
  readonly fetch: typeof fetch;
}

export function integrationChecks(config: Config, clients: IntegrationClients, opts: { timeoutMs: number }): IntegrationCheck[] {
  const isSet = (name: string) => Boolean(config.env[name]?.trim());
  const settings = (...names: string[]) => Object.fromEntries(names.map((n) => [n, isSet(n)]));
  // Nomad is asked only when it is the runtime or was named: on one machine with Docker it is not missing.
  const usesNomad = config.nomad.isAddressSet || config.runtime === 'nomad';
  const checks: IntegrationCheck[] = [
    ...(clients.runtime ? [runtimeCheck(clients.runtime, settings('NORN_RUNTIME', 'NOMAD_ADDR', 'DOCKER_HOST'))] : []),
    {
      name: 'nomad',
      purpose: 'runs the apps on a cluster: submit, healthy, plan',
      settings: settings('NOMAD_ADDR', 'NOMAD_TOKEN'),
      target: usesNomad ? config.nomad.address : undefined,
      probe: usesNomad ? async (signal) => `leader ${await clients.nomad.leader({ signal })}` : undefined,
      unconfigured: 'apps run on the local Docker engine (set NOMAD_ADDR to deploy to a Nomad cluster)',
      hint: 'is Nomad running? set NOMAD_ADDR (and NOMAD_TOKEN when ACLs are on)',
    },
    {
      name: 'docker',
      purpose: 'builds and tests images',
      settings: settings('DOCKER_HOST'),
      target: clients.docker.address,
      probe: async (signal) => {
        const v = await clients.docker.version(signal);
        return `Docker ${v.version} (API ${v.apiVersion})`;
      },
      hint: 'is the Docker engine running? set DOCKER_HOST (unix:///path, tcp://host:port or ssh://user@host)',
    },
    registryCheck(config, clients.fetch, settings('NORN_REGISTRY_URL', 'NORN_REGISTRY_USERNAME', 'NORN_REGISTRY_PASSWORD')),
    {
      name: 'postgres',
      purpose: 'snapshots and migrations of app databases',
      settings: settings('NORN_POSTGRES_URL'),
      target: clients.postgres?.address,
      probe: clients.postgres ? async () => `PostgreSQL ${await clients.postgres!.serverVersion(opts.timeoutMs)}` : undefined,
      unconfigured: 'apps that declare infrastructure.postgres fail at snapshot',
      hint: 'is PostgreSQL running, and does NORN_POSTGRES_URL name an admin role that can log in?',
    },
    cloudflaredCheck(config, clients, isSet),
    {
      name: 'sops',
      purpose: 'decrypts secrets.enc.yaml at submit',
      settings: settings('SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY'),
      target: config.ageKeys.SOPS_AGE_KEY_FILE,
      probe:
        config.ageKeys.SOPS_AGE_KEY_FILE || config.ageKeys.SOPS_AGE_KEY
          ? async () => {
              const n = (await loadAgeIdentities(config.ageKeys)).length;
              return `${n} age ${n === 1 ? 'identity' : 'identities'}`;
            }
          : undefined,
      unconfigured: 'apps with a secrets.enc.yaml fail at submit',
      hint: 'set SOPS_AGE_KEY_FILE to a readable age keys file (age-keygen -o keys.txt), or SOPS_AGE_KEY',
    },
    {
      name: 'git',
      purpose: 'clone credentials',
      settings: settings('NORN_GIT_TOKEN', 'NORN_GIT_SSH_KEY'),
      target: config.gitSshKey,
      probe: config.gitToken || config.gitSshKey ? async () => gitCredentials(config) : undefined,
      unconfigured: 'clones public and file:// repositories only',
      hint: 'NORN_GIT_SSH_KEY must name a readable private key file',
    },
    {
      name: 'webhooks',
      purpose: 'signature check of incoming deliveries',
      settings: settings('NORN_WEBHOOK_SECRET'),
      probe: config.webhookSecret ? async () => 'signatures are checked' : undefined,
      unconfigured: 'every webhook is refused (503) until NORN_WEBHOOK_SECRET is set',
      hint: '',
    },
    ...forgeChecks(config, clients.fetch, isSet),
  ];
  if (clients.consul) {
    const base = clients.consul.baseUrl;
    checks.push({
      name: 'consul',
      purpose: 'service addresses for cloudflared rules',
      settings: settings('CONSUL_HTTP_ADDR', 'CONSUL_HTTP_TOKEN'),
      target: base,
      probe: (signal) => answers(clients.fetch, `${base}/v1/status/leader`, signal),
      hint: 'is the Consul agent running? set CONSUL_HTTP_ADDR',
    });
  }
  return checks;
}

function runtimeCheck(runtime: NonNullable<IntegrationClients['runtime']>, settings: Record<string, boolean>): IntegrationCheck {
  return {
    name: 'runtime',
    purpose: 'where apps run (submit, healthy, instances)',
    settings,
    probe: async () => {
      const choice = await runtime.describe();
      if (!choice.runtime) throw new Error(choice.reason);
      return `${choice.runtime}: ${choice.reason}`;
    },
    // The choice's reason already names the settings to give.
    hint: '',
  };
}

function registryCheck(config: Config, fetchFn: typeof fetch, settings: Record<string, boolean>): IntegrationCheck {
  const registry = config.registryUrl;
  const host = registry?.split('/')[0];
  return {
    name: 'registry',
    purpose: 'where built images are pushed',
    settings,
    target: registry,
    probe: host ? (signal) => probeRegistry(fetchFn, host, config.registryAuth, signal) : undefined,
    unconfigured: 'built images stay on the local engine (fine for one machine)',
    hint: 'is the registry running? set NORN_REGISTRY_URL (host:port), and NORN_REGISTRY_USERNAME/_PASSWORD if it wants them',
  };
}

/** GET /v2/ answers 200 (open, or our credentials work) or 401 (credentials wanted or refused). */
async function probeRegistry(fetchFn: typeof fetch, host: string, auth: Config['registryAuth'], signal: AbortSignal): Promise<string> {
  // Docker talks plain HTTP to a loopback registry and HTTPS to any other unless told otherwise: try that first.
  const isLoopback = /^(localhost|127\.[\d.]+|\[::1\])(:|$)/.test(host);
  const schemes = isLoopback ? ['http', 'https'] : ['https', 'http'];
  const basic = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  let firstError: unknown;
  for (const scheme of schemes) {
    // Credentials never cross the network in clear: over plain http they go to a loopback registry only.
    const sendsCredentials = basic !== undefined && (scheme === 'https' || isLoopback);
    let res: Response;
    try {
      res = await fetchFn(`${scheme}://${host}/v2/`, { headers: sendsCredentials ? { authorization: basic } : {}, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      firstError ??= err;
      continue;
    }
    await res.body?.cancel();
    const where = `${scheme}://${host}/v2/`;
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (res.ok) return `answers at ${where}${sendsCredentials ? ' (credentials accepted)' : ''}`;
    if (res.status === 401 && /^bearer/i.test(challenge)) return `answers at ${where} (token auth; credentials checked at push)`;
    if (res.status === 401 && basic !== undefined && !sendsCredentials) return `answers at ${where} (plain http: credentials not sent, checked at push)`;
    if (res.status === 401) throw new Error(basic ? 'the registry refused NORN_REGISTRY_USERNAME/_PASSWORD (401)' : 'the registry wants credentials (401): set NORN_REGISTRY_USERNAME/_PASSWORD');
    throw new Error(`the registry answered ${res.status} to GET /v2/`);
  }
  throw firstError;
}

function cloudflaredCheck(config: Config, clients: IntegrationClients, isSet: (name: string) => boolean): IntegrationCheck {
  const path = clients.ingress.configPath;
  const explicit = isSet('NORN_CLOUDFLARED_CONFIG');
  // A default path with no file is "not configured"; a path someone set that is not there is a failure.
  const isConfigured = explicit || existsSync(path);
  return {
    name: 'cloudflared',
    purpose: 'public hostnames of apps with endpoints (forge step)',
    settings: { NORN_CLOUDFLARED_CONFIG: explicit, NORN_CLOUDFLARED_RESTART: isSet('NORN_CLOUDFLARED_RESTART') },
    target: path,
    probe: isConfigured ? async () => {
      const listing = await clients.ingress.listRules();
      if (listing.problems.length > 0) throw new Error(`cloudflared would refuse the file: ${listing.problems[0]}`);
      const reload = config.cloudflared.reloadCommand ? 'reloaded with NORN_CLOUDFLARED_RESTART' : 'no reload command: restart cloudflared by hand after changes';
      return `${listing.rules.length} ingress rules; ${reload}`;
    } : undefined,
    unconfigured: 'apps with endpoints deploy live but not routed',
    hint: explicit ? 'NORN_CLOUDFLARED_CONFIG must name cloudflared\'s config file (with its ingress list)' : 'create ~/.cloudflared/config.yml or set NORN_CLOUDFLARED_CONFIG',
  };
}

function forgeChecks(config: Config, fetchFn: typeof fetch, isSet: (name: string) => boolean): IntegrationCheck[] {
  const forges = config.statuses;
  const entries = [
    { name: 'github', endpoint: forges.github, token: 'NORN_GITHUB_TOKEN', url: 'NORN_GITHUB_API_URL', path: '' },
    { name: 'gitea', endpoint: forges.gitea, token: 'NORN_GITEA_TOKEN', url: 'NORN_GITEA_URL', path: '/api/v1/version' },
    { name: 'forgejo', endpoint: forges.forgejo, token: 'NORN_FORGEJO_TOKEN', url: 'NORN_FORGEJO_URL', path: '/api/v1/version' },
    { name: 'gitlab', endpoint: forges.gitlab, token: 'NORN_GITLAB_TOKEN', url: 'NORN_GITLAB_URL', path: '/api/v4/version' },
  ];
  return entries.map((f) => ({
    name: `forge:${f.name}`,
    purpose: 'commit statuses',
    settings: { [f.token]: isSet(f.token), [f.url]: isSet(f.url) },
    target: f.endpoint?.url,
    probe: f.endpoint ? (signal: AbortSignal) => answers(fetchFn, `${f.endpoint!.url}${f.path}`, signal) : undefined,
    unconfigured: `no commit statuses on ${f.name}`,
    hint: `is ${f.endpoint?.url ?? 'the forge'} reachable from this machine? check ${f.url}`,
  }));
}

/** Any HTTP answer below 500 means the server is there (the probe sends no credentials, so 401 is expected). */
async function answers(fetchFn: typeof fetch, url: string, signal: AbortSignal): Promise<string> {
  const res = await fetchFn(url, { signal });
  await res.body?.cancel();
  if (res.status >= 500) throw new Error(`answered ${res.status}`);
  return `answers (HTTP ${res.status})`;
}

async function gitCredentials(config: Config): Promise<string> {
  if (config.gitSshKey) await access(config.gitSshKey, constants.R_OK).catch(() => Promise.reject(new Error(`cannot read NORN_GIT_SSH_KEY ${config.gitSshKey}`)));
  return [config.gitToken ? 'HTTPS token' : '', config.gitSshKey ? 'SSH key' : ''].filter(Boolean).join(' and ');
}
