// Every setting the service reads, with its default and a line of help. `norn serve --help` prints this table;
// load-config.ts validates it. Settings marked secret are never printed, only whether they are set.

export interface Setting {
  readonly name: string;
  readonly help: string;
  readonly default?: string;
  readonly secret?: boolean;
}

import { STATUS_SETTINGS } from '../statuses/status-config.js';

export const SETTINGS: readonly Setting[] = [
  { name: 'NORN_CONFIG', help: 'optional YAML file of NORN_* settings (environment variables win)' },
  { name: 'NORN_PORT', help: 'HTTP port', default: '8800' },
  { name: 'NORN_HOST', help: 'address to listen on (the API always needs the token, so 0.0.0.0 is safe)', default: '0.0.0.0' },
  { name: 'NORN_APPS_DIR', help: 'directory of <app>/infraspec.yaml files', default: './config/apps' },
  { name: 'NORN_DATA_DIR', help: 'SQLite file, work dirs and snapshots', default: './data' },
  { name: 'NORN_DATABASE_URL', help: 'PostgreSQL URL for the service store instead of SQLite', secret: true },
  { name: 'NORN_WEBHOOK_SECRET', help: 'shared secret for webhook signatures (webhooks are refused without it)', secret: true },
  { name: 'NORN_API_TOKEN', help: 'bearer token the API and /ws require; unset: one is generated into <data dir>/api-token', secret: true },
  { name: 'NORN_PUBLIC_URL', help: 'public base URL of the dashboard (commit status links)', default: 'http://localhost:8800' },
  { name: 'NORN_ALLOWED_ORIGINS', help: 'comma-separated extra origins allowed on /ws (localhost always is) and to send POST/PUT/PATCH/DELETE to the API', default: '' },
  { name: 'NORN_GIT_TOKEN', help: 'HTTPS token for cloning (sent as a header)', secret: true },
  { name: 'NORN_GIT_SSH_KEY', help: 'path of the SSH private key for cloning' },
  { name: 'NORN_GIT_KNOWN_HOSTS', help: 'known_hosts file checked for SSH clones', default: '~/.ssh/known_hosts' },
  { name: 'NORN_MAX_CONCURRENT_DEPLOYS', help: 'deploys running at once across apps', default: '4' },
  { name: 'NORN_MAX_BODY_BYTES', help: 'largest webhook body accepted', default: '5242880' },
  { name: 'NORN_WEBHOOK_BUFFER_BYTES', help: 'bytes all webhook bodies being read at once may hold together (beyond: 503 with Retry-After)', default: '67108864' },
  { name: 'NORN_WEBHOOK_BODY_TIMEOUT_SECONDS', help: 'time a webhook body may take to arrive (beyond: 408)', default: '10' },
  { name: 'NORN_REJECTED_PER_MINUTE', help: 'refused webhook deliveries per sending address and minute recorded one by one; the rest get 429 and one aggregate row', default: '30' },
  { name: 'NORN_LEDGER_RETENTION_DAYS', help: 'days deliveries that deployed nothing (rejected, ignored, no match) are kept; 0 keeps them forever', default: '30' },
  { name: 'NORN_STEP_TIMEOUT_SECONDS', help: 'default time limit of a pipeline step', default: '900' },
  { name: 'NORN_CLONE_TIMEOUT_SECONDS', help: 'time limit of the clone step', default: '300' },
  { name: 'NORN_LEASE_SECONDS', help: 'how long a deploy lease lasts without renewal', default: '30' },
  { name: 'NORN_POLL_INTERVAL_MS', help: 'how often the scheduler looks for queued deploys', default: '500' },
  { name: 'DOCKER_HOST', help: 'Docker engine (unix://, tcp:// or ssh://); default the local socket' },
  { name: 'NORN_REGISTRY_URL', help: 'registry images are pushed to (host[:port][/prefix]); unset keeps images local' },
  { name: 'NORN_REGISTRY_USERNAME', help: 'registry login' },
  { name: 'NORN_REGISTRY_PASSWORD', help: 'registry password or token', secret: true },
  { name: 'NORN_BUILD_NETWORK', help: 'network for image builds (none, default, host)', default: 'none' },
  { name: 'NORN_TEST_NETWORK', help: 'network for the test container (none, default, host)', default: 'none' },
  { name: 'NORN_TEST_TIMEOUT_SECONDS', help: 'time limit of the test command', default: '600' },
  { name: 'NORN_POSTGRES_URL', help: 'admin URL of the PostgreSQL server holding app databases (snapshot, migrate, restore)', secret: true },
  { name: 'NORN_APP_POSTGRES_URL', help: 'app-facing URL of that server, for the DATABASE_URL given to apps', secret: true },
  { name: 'NORN_SNAPSHOTS_DIR', help: 'where database snapshots are kept (default <data dir>/snapshots)' },
  { name: 'NOMAD_ADDR', help: 'Nomad HTTP API', default: 'http://127.0.0.1:4646' },
  { name: 'NOMAD_TOKEN', help: 'Nomad ACL token', secret: true },
  { name: 'NOMAD_NAMESPACE', help: 'Nomad namespace of the jobs' },
  { name: 'NOMAD_REGION', help: 'Nomad region' },
  { name: 'NOMAD_CACERT', help: 'CA certificate file (PEM) for Nomad TLS' },
  { name: 'NOMAD_CLIENT_CERT', help: 'client certificate file (PEM) for Nomad mTLS' },
  { name: 'NOMAD_CLIENT_KEY', help: 'client key file (PEM) for Nomad mTLS' },
  { name: 'NOMAD_SKIP_VERIFY', help: 'skip Nomad TLS verification (true/false)', default: 'false' },
  { name: 'NORN_NOMAD_DATACENTERS', help: 'comma-separated datacenters for the jobs', default: 'dc1' },
  { name: 'NORN_HEALTHY_DEADLINE_SECONDS', help: 'how long the healthy step follows a Nomad deployment', default: '720' },
  { name: 'NORN_NOMAD_WAIT_SECONDS', help: 'longest wait of one Nomad blocking query', default: '30' },
  { name: 'SOPS_AGE_KEY_FILE', help: 'age identities for secrets.enc.* (sops variable)' },
  { name: 'SOPS_AGE_KEY', help: 'age identities inline (sops variable)', secret: true },
  { name: 'NORN_CLOUDFLARED_CONFIG', help: 'cloudflared config file the forge step edits', default: '~/.cloudflared/config.yml' },
  { name: 'NORN_CLOUDFLARED_RESTART', help: 'command that reloads cloudflared after an edit (e.g. systemctl restart cloudflared)' },
  { name: 'NORN_CLOUDFLARED_RESTART_TIMEOUT_SECONDS', help: 'time limit of the reload command', default: '60' },
  { name: 'CONSUL_HTTP_ADDR', help: 'Consul address; when set, service addresses come from its health API' },
  { name: 'CONSUL_HTTP_TOKEN', help: 'Consul ACL token', secret: true },
  { name: 'NORN_METRICS_PUBLIC', help: 'serve /metrics without the API token', default: 'false' },
  { name: 'NORN_LOG_LEVEL', help: 'pino log level', default: 'info' },
  ...STATUS_SETTINGS,
];
