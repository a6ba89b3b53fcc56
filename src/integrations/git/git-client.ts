// Git through the CLI (simple-git). Fetches exactly one commit, shallowly. Either straight into a work dir, or
// through a bare repository cache that then writes the work tree. Credentials travel in the child's
// environment (GIT_CONFIG_* for an HTTPS header, GIT_SSH_COMMAND for a key), never in argv, URLs or logs.
import fs from 'node:fs/promises';
import path from 'node:path';
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

/** Where a repository cache keeps one ref per fetched commit (what it tells the remote it already has). */
const CACHE_REF_PREFIX = 'refs/norn/';

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
   * Fetches `sha` (depth 1) from `url` into the bare repository `cacheDir` (created when absent) and keeps a ref to
   * it, so the next fetch tells the remote which commits it has and receives only the objects that changed. Only the
   * newest `keepRefs` commits stay referenced; the objects of older ones go at the repository's own gc.
   */
  async fetchIntoCache(url: string, sha: string, cacheDir: string, opts: { signal?: AbortSignal; keepRefs?: number } = {}): Promise<void> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    assertRemoteUrl(url);
    await fs.mkdir(cacheDir, { recursive: true });
    // GIT_DIR pins git to the cache: a damaged one must fail (and be fetched again), not make git search the
    // parent directories for another repository to fetch into.
    const git = this.git(cacheDir, url, opts.signal, { GIT_DIR: cacheDir });
    if (!(await isFile(path.join(cacheDir, 'HEAD')))) {
      await this.run(['init', '--bare'], () => git.raw(['init', '--quiet', '--bare']));
      // A fetch keeps its pack as received (no loose-object explosion); gc runs in the foreground, within the deadline.
      await this.run(['config'], () => git.raw(['config', 'fetch.unpackLimit', '1']));
      await this.run(['config'], () => git.raw(['config', 'gc.autoDetach', 'false']));
    }
    await this.run(['fetch', '--depth=1', 'origin', sha], () =>
      git.raw(['fetch', '--quiet', '--no-tags', '--depth=1', '--', url, `+${sha}:${CACHE_REF_PREFIX}${sha}`]),
    );
    const refs = await this.run(['for-each-ref'], () =>
      git.raw(['for-each-ref', '--sort=-committerdate', '--format=%(refname)', CACHE_REF_PREFIX]),
    );
    const stale = refs.split('\n').filter(Boolean).slice(opts.keepRefs ?? 20);
    for (const ref of stale) await this.run(['update-ref', '-d', ref], () => git.raw(['update-ref', '-d', ref]));
  }

  /** Writes the files of commit `sha` from the bare repository `cacheDir` into `dir` (no .git: the commit's tree only). */
  async checkoutFromCache(cacheDir: string, sha: string, dir: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    await fs.mkdir(dir, { recursive: true });
    // The cache is bare: the work tree and a private index are given to git in its environment.
    const git = this.git(cacheDir, '', opts.signal, { GIT_DIR: cacheDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: `${dir}.index` });
    const commit = (await this.run(['rev-parse', sha], () => git.raw(['rev-parse', '--verify', '--end-of-options', `${sha}^{commit}`]))).trim();
    if (commit !== sha) throw new CommandError(['git', 'rev-parse', sha], 1, `the cache resolved ${commit}, expected ${sha}`);
    try {
      await this.run(['read-tree', '-u', sha], () => git.raw(['read-tree', '--reset', '-u', sha]));
    } finally {
      await fs.rm(`${dir}.index`, { force: true });
    }
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

  /** `extraEnv` carries paths of our own making (work tree, index) for commands run against a bare repository. */
  private git(dir: string, url: string, signal?: AbortSignal, extraEnv: Readonly<Record<string, string>> = {}): SimpleGit {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      GIT_TERMINAL_PROMPT: '0',
      ...extraEnv,
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
      allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0', 'GIT_SSH_COMMAND', ...Object.keys(extraEnv)],
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

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
