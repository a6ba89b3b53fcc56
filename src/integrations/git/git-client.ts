// Git through the CLI (simple-git). Fetches exactly one commit, shallowly. Credentials travel in the child's
// environment (GIT_CONFIG_* for an HTTPS header, GIT_SSH_COMMAND for a key), never in argv, URLs or logs.
import fs from 'node:fs/promises';
import { simpleGit, type SimpleGit } from 'simple-git';
import { CommandError, InvalidInputError } from '../../errors.js';

export interface GitClientConfig {
  /** HTTPS token, sent as an Authorization header to https remotes. */
  readonly token?: string;
  /** Path of an SSH private key for ssh remotes. */
  readonly sshKeyPath?: string;
  /** known_hosts file used with the key; host keys are always checked. */
  readonly knownHostsPath: string;
}

const SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/** A commit id as git prints it: 40 (SHA-1) or 64 (SHA-256) lower-case hex characters. */
export function isCommitSha(value: string): boolean {
  return SHA.test(value);
}

/** A ref name git would accept (git check-ref-format rules, plus: no leading dash, bounded length). */
export function isSafeRef(ref: string): boolean {
  if (ref.length === 0 || ref.length > 255 || ref.startsWith('-') || ref.startsWith('/') || ref.endsWith('/')) return false;
  if (ref.endsWith('.') || ref.endsWith('.lock') || ref.includes('..') || ref.includes('@{') || ref.includes('//')) return false;
  if (/[~^:?*[\\\s]/.test(ref) || hasControlChars(ref)) return false;
  return ref.split('/').every((part) => part.length > 0 && !part.startsWith('.'));
}

export class GitClient {
  constructor(private readonly config: GitClientConfig) {}

  /** Fetches `sha` (depth 1) from `url` into the empty or absent directory `dir` and checks it out detached. */
  async fetchCommit(url: string, sha: string, dir: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    assertRemoteUrl(url);
    await fs.mkdir(dir, { recursive: true });
    const git = this.git(dir, url, opts.signal);
    await this.run(['init', '--quiet'], () => git.init(['--quiet']));
    await this.run(['fetch', '--depth=1', 'origin', sha], () =>
      git.raw(['fetch', '--quiet', '--no-tags', '--depth=1', '--', url, sha]),
    );
    await this.run(['checkout', sha], () => git.raw(['checkout', '--quiet', '--detach', sha]));
    const head = (await git.revparse(['HEAD'])).trim();
    if (head !== sha) throw new CommandError(['git', 'rev-parse', 'HEAD'], 1, `checked out ${head}, expected ${sha}`);
  }

  /**
   * How many commits the history of `sha` has (`git rev-list --count`), Norn's BUILD_NUMBER. A shallow checkout
   * knows only one commit, so its history is fetched first from `url` (the whole history: costly for a large repo,
   * which is why the build step asks only when the Dockerfile declares `ARG BUILD_NUMBER`).
   */
  async commitCount(dir: string, sha: string, url: string | undefined, opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    const git = this.git(dir, url ?? '', opts.signal);
    const shallow = (await this.run(['rev-parse', '--is-shallow-repository'], () => git.raw(['rev-parse', '--is-shallow-repository']))).trim();
    if (shallow === 'true') {
      if (!url) throw new CommandError(['git', 'fetch', '--unshallow'], 128, 'the checkout is shallow and there is no remote to fetch its history from');
      assertRemoteUrl(url);
      await this.run(['fetch', '--unshallow', sha], () => git.raw(['fetch', '--quiet', '--no-tags', '--unshallow', '--', url, sha]));
    }
    const count = (await this.run(['rev-list', '--count', sha], () => git.raw(['rev-list', '--count', sha]))).trim();
    if (!/^\d+$/.test(count)) throw new CommandError(['git', 'rev-list', '--count', sha], 1, `unexpected answer ${JSON.stringify(count.slice(0, 40))}`);
    return Number(count);
  }

  /** Resolves a branch, tag or full ref on the remote to its commit, or undefined when it does not exist. */
  async resolveRef(url: string, ref: string, opts: { signal?: AbortSignal } = {}): Promise<string | undefined> {
    if (!isSafeRef(ref)) throw new InvalidInputError('ref', 'is not a valid git ref name');
    assertRemoteUrl(url);
    const git = this.git(process.cwd(), url, opts.signal);
    const out = await this.run(['ls-remote', ref], () => git.raw(['ls-remote', '--', url, ref]));
    const lines = out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
    const wanted = [ref, `refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`];
    for (const name of wanted) {
      const hit = lines.find(([, r]) => r === name);
      if (hit) return hit[0];
    }
    return undefined;
  }

  private git(dir: string, url: string, signal?: AbortSignal): SimpleGit {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      GIT_TERMINAL_PROMPT: '0',
    };
    if (this.config.token && /^https?:\/\//i.test(url)) {
      const basic = Buffer.from(`x-access-token:${this.config.token}`).toString('base64');
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    if (this.config.sshKeyPath) {
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      env.GIT_SSH_COMMAND = `ssh -i ${q(this.config.sshKeyPath)} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${q(this.config.knownHostsPath)}`;
    }
    return simpleGit({
      baseDir: dir,
      abort: signal,
      allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0', 'GIT_SSH_COMMAND'],
      // Both are ours, built above from the operator's settings, never from a payload: the ssh command (quoted key
      // and known_hosts paths) and the one config entry carrying the token header.
      unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true },
    }).env(env);
  }

  /** Runs a git task, turning its failure into a CommandError whose text never carries the credentials. */
  private async run<T>(argv: string[], task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (err) {
      const text = this.redact(err instanceof Error ? err.message : String(err));
      throw new CommandError(['git', ...argv], 128, text, { cause: undefined });
    }
  }

  private redact(text: string): string {
    let out = text.replace(/(https?:\/\/)[^@/\s]+@/gi, '$1***@');
    if (this.config.token) out = out.split(this.config.token).join('***');
    return out;
  }
}

/** Remote URLs come from operator specs; still refuse option-looking and transport-helper forms. */
function assertRemoteUrl(url: string): void {
  if (!url || url.startsWith('-') || /^ext::/i.test(url) || hasControlChars(url)) {
    throw new InvalidInputError('repo.url', 'is not a usable git remote');
  }
}

function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
