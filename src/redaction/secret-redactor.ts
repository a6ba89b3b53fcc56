// The one redaction step for text that came from outside (error messages of Nomad, registries, forges, git,
// Docker, command stderr): every configured secret is masked before the text reaches the saga log, the deploy
// record, the status outbox, an API answer or the log. Built once by the composition root from the config;
// decrypted app secrets are added as the submit step learns them.
import type { Config } from '../config/load-config.js';

export const MASK = '***';

/**
 * Values shorter than this are not masked as bare strings: a 4-letter password would mask ordinary words in every
 * message. Passwords inside URLs are masked whatever their length (see `redact`).
 */
const MIN_MASKED_LENGTH = 6;

export interface Redactor {
  /** `text` with every known secret (and its base64 and URL-encoded forms) and URL passwords masked. */
  redact(text: string): string;
  /** A copy of `value` with every string inside it redacted (for event metadata). */
  redactDeep<T>(value: T): T;
  /** Adds secrets learnt at run time (an app's decrypted secret values). */
  remember(values: Iterable<string>): void;
}

export class SecretRedactor implements Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  constructor(secrets: Iterable<string | undefined>) {
    this.remember(secrets);
  }

  remember(values: Iterable<string | undefined>): void {
    let changed = false;
    for (const value of values) {
      if (typeof value !== 'string') continue;
      for (const form of formsOf(value.trim())) {
        if (form.length < MIN_MASKED_LENGTH || this.secrets.has(form)) continue;
        this.secrets.add(form);
        changed = true;
      }
    }
    if (changed) {
      // Longest first, so a secret that contains another is masked whole.
      const alternatives = [...this.secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
  }

  redact(text: string): string {
    const masked = this.pattern ? text.replace(this.pattern, MASK) : text;
    // user:password@ in any URL (a database URL, a clone URL with credentials in it).
    return masked.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@/\s]+@/gi, `$1:${MASK}@`);
  }

  redactDeep<T>(value: T): T {
    const walk = (node: unknown): unknown => {
      if (typeof node === 'string') return this.redact(node);
      if (Array.isArray(node)) return node.map(walk);
      if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
      return node;
    };
    return walk(value) as T;
  }
}

/** The secrets in the configuration: tokens, passwords, the webhook secret, age keys, database URL passwords. */
export function configuredSecrets(config: Config): (string | undefined)[] {
  const env = config.env;
  const gitBasic = config.gitToken ? Buffer.from(`x-access-token:${config.gitToken}`).toString('base64') : undefined;
  const registryBasic = config.registryAuth ? Buffer.from(`${config.registryAuth.username}:${config.registryAuth.password}`).toString('base64') : undefined;
  return [
    config.apiToken,
    config.webhookSecret,
    config.gitToken,
    gitBasic,
    config.registryAuth?.password,
    registryBasic,
    config.nomad.token,
    config.consul.token,
    config.ageKeys.SOPS_AGE_KEY,
    ...ageKeyLines(config.ageKeys.SOPS_AGE_KEY),
    urlPassword(config.databaseUrl),
    urlPassword(config.postgresUrl),
    urlPassword(config.appPostgresUrl),
    env.NORN_GITHUB_TOKEN,
    env.NORN_GITEA_TOKEN,
    env.NORN_FORGEJO_TOKEN,
    env.NORN_GITLAB_TOKEN,
    env.CONSUL_HTTP_TOKEN,
  ];
}

export function secretRedactor(config: Config): SecretRedactor {
  return new SecretRedactor(configuredSecrets(config));
}

/** A value as it may appear in other text: as is, URL-encoded, inside a JSON string (log lines), and base64 (Basic auth). */
function formsOf(value: string): string[] {
  if (value === '') return [];
  return [...new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64').replace(/=+$/, '')])];
}

function ageKeyLines(keys: string | undefined): string[] {
  return (keys ?? '').split(/\s+/).filter((line) => line.startsWith('AGE-SECRET-KEY-'));
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
