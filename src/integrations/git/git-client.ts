// Git through the CLI. Fetches exactly one commit, shallowly, and resolves refs on a remote. Every command goes
// through `run`, the one place that decides how git is started:
//   - only allowed transports: the URL is checked against the allow-list (remote-url.ts), git gets the same list
//     as GIT_ALLOW_PROTOCOL plus `protocol.ext.allow=never`, and `--` ends the options before URLs and refs;
//   - a deadline per command (NORN_GIT_TIMEOUT_SECONDS); past it, or on abort or shutdown, git and every process
//     it started (remote helpers, ssh) are killed as one process group;
//   - credentials travel in the child's environment (GIT_CONFIG_* for an HTTPS header, GIT_SSH_COMMAND for a
//     key), never in argv, URLs or logs, and never over plain http to a host that is not this machine;
//   - failures become typed errors with a hint: UpstreamError (the remote refused or failed), UpstreamTimeoutError
//     (no answer in time), CommandError (git failed locally); their text never carries the credentials.
import fs from 'node:fs/promises';
import path from 'node:path';
import { CommandError, InvalidInputError, UpstreamError, UpstreamTimeoutError } from '../../errors.js';
import { createCommandRunner, type CommandRunner } from '../process/run-command.js';
import { hasControlCharacters } from '../../text/control-characters.js';
import { ALLOWED_GIT_PROTOCOLS, displayUrl, remoteUrlProblem } from './remote-url.js';

export interface GitClientConfig {
  /** HTTPS token, sent as an Authorization header to https remotes (and to http ones only as allowed below). */
  readonly token?: string;
  /** Path of an SSH private key for ssh remotes. */
  readonly sshKeyPath?: string;
  /** known_hosts file used with the key; host keys are always checked. */
  readonly knownHostsPath: string;
  /** Deadline of one git command (default 120 s). */
  readonly commandTimeoutMs?: number;
  /** Send the token over plain http to hosts other than loopback too (NORN_GIT_ALLOW_HTTP_CREDENTIALS). */
  readonly allowHttpCredentials?: boolean;
}

export const DEFAULT_GIT_TIMEOUT_MS = 120_000;

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
  if (/[~^:?*[\\\s]/.test(ref) || hasControlCharacters(ref)) return false;
  return ref.split('/').every((part) => part.length > 0 && !part.startsWith('.'));
}

interface RunGit {
  /** git's arguments after the global options, e.g. ['ls-remote', '--', url, ref]. */
  readonly args: readonly string[];
  /** What the error names, e.g. "ls-remote https://host/x.git" (credentials removed). */
  readonly operation: string;
  readonly cwd: string;
  /** The remote this command talks to; undefined for local commands. */
  readonly url?: string;
  readonly signal?: AbortSignal;
  /** Paths of our own making (work tree, index) for commands run against a bare repository. */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export class GitClient {
  private readonly timeoutMs: number;

  constructor(
    private readonly config: GitClientConfig,
    private readonly deps: { runner: CommandRunner } = { runner: createCommandRunner() },
  ) {
    this.timeoutMs = config.commandTimeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  }

  /** Fetches `sha` (depth 1) from `url` into the empty or absent directory `dir` and checks it out detached. */
  async fetchCommit(url: string, sha: string, dir: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    assertRemoteUrl(url);
    await fs.mkdir(dir, { recursive: true });
    const local = { cwd: dir, signal: opts.signal };
    await this.run({ ...local, args: ['init', '--quiet'], operation: 'init' });
    await this.run({ ...local, url, args: ['fetch', '--quiet', '--no-tags', '--depth=1', '--', url, sha], operation: `fetch ${displayUrl(url)}` });
    await this.run({ ...local, args: ['checkout', '--quiet', '--detach', sha, '--'], operation: 'checkout' });
    const head = (await this.run({ ...local, args: ['rev-parse', '--verify', 'HEAD'], operation: 'rev-parse' })).trim();
    if (head !== sha) throw new CommandError(['git', 'rev-parse', 'HEAD'], 1, `checked out ${head}, expected ${sha}`);
  }

  /**
   * How many commits the history of `sha` on `url` has (`git rev-list --count`), Norn's BUILD_NUMBER. A deploy fetches
   * one commit only, so the history is fetched here into `scratchDir` (a bare repository, removed afterwards): the
   * commits alone where the remote allows filters (`--filter=tree:0`), else whole, which is why the build step asks
   * only when the Dockerfile declares `ARG BUILD_NUMBER`.
   */
  async commitCount(url: string, sha: string, scratchDir: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    assertRemoteUrl(url);
    await fs.rm(scratchDir, { recursive: true, force: true });
    await fs.mkdir(scratchDir, { recursive: true });
    // GIT_DIR pins git to the scratch repository, never one enclosing it (a data dir inside a checkout).
    const local = { cwd: scratchDir, signal: opts.signal, extraEnv: { GIT_DIR: scratchDir } };
    try {
      await this.run({ ...local, args: ['init', '--quiet', '--bare'], operation: 'init --bare' });
      await this.run({ ...local, url, args: ['fetch', '--quiet', '--no-tags', '--filter=tree:0', '--', url, sha], operation: `fetch history ${displayUrl(url)}` });
      const count = (await this.run({ ...local, args: ['rev-list', '--count', sha, '--'], operation: 'rev-list --count' })).trim();
      if (!/^\d+$/.test(count)) throw new CommandError(['git', 'rev-list', '--count', sha], 1, `unexpected answer ${JSON.stringify(count.slice(0, 40))}`);
      return Number(count);
    } finally {
      await fs.rm(scratchDir, { recursive: true, force: true });
    }
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
    const local = { cwd: cacheDir, signal: opts.signal, extraEnv: { GIT_DIR: cacheDir } };
    if (!(await isFile(path.join(cacheDir, 'HEAD')))) {
      await this.run({ ...local, args: ['init', '--quiet', '--bare'], operation: 'init --bare' });
      // A fetch keeps its pack as received (no loose-object explosion); gc runs in the foreground, within the deadline.
      await this.run({ ...local, args: ['config', 'fetch.unpackLimit', '1'], operation: 'config' });
      await this.run({ ...local, args: ['config', 'gc.autoDetach', 'false'], operation: 'config' });
    }
    await this.run({ ...local, url, args: ['fetch', '--quiet', '--no-tags', '--depth=1', '--', url, `+${sha}:${CACHE_REF_PREFIX}${sha}`], operation: `fetch ${displayUrl(url)}` });
    const refs = await this.run({ ...local, args: ['for-each-ref', '--sort=-committerdate', '--format=%(refname)', CACHE_REF_PREFIX], operation: 'for-each-ref' });
    const stale = refs.split('\n').filter(Boolean).slice(opts.keepRefs ?? 20);
    for (const ref of stale) await this.run({ ...local, args: ['update-ref', '-d', ref], operation: 'update-ref' });
  }

  /**
   * Writes the files of commit `sha` from the bare repository `cacheDir` into `dir` (no .git: the commit's tree only).
   * git describes what it wrote in an index: a private one beside `dir`, removed afterwards, or, with `keepIndex`,
   * the one at that path (outside `dir`), kept so that `updateWorkTree` can bring `dir` to another commit later.
   */
  async checkoutFromCache(cacheDir: string, sha: string, dir: string, opts: { signal?: AbortSignal; keepIndex?: string } = {}): Promise<void> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    await fs.mkdir(dir, { recursive: true });
    const index = opts.keepIndex ?? `${dir}.index`;
    // The cache is bare: the work tree and the index are given to git in its environment.
    const local = { cwd: cacheDir, signal: opts.signal, extraEnv: { GIT_DIR: cacheDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index } };
    await this.verifyCached(local, sha);
    try {
      await this.run({ ...local, args: ['read-tree', '--reset', '-u', sha], operation: 'read-tree' });
    } catch (err) {
      await fs.rm(index, { force: true });
      throw err;
    }
    if (opts.keepIndex === undefined) await fs.rm(index, { force: true });
  }

  /**
   * Brings `dir`, written earlier by `checkoutFromCache` with its index kept at `index`, to commit `sha`, and returns
   * how many paths differed (written or removed). `read-tree --reset -u` is a one-way merge against the index: it
   * rewrites only the entries whose blob changed and, because of --reset, those whose file no longer matches what
   * the index recorded (modified or deleted since). `clean -ffdx` then removes every file the commit does not have,
   * ignored ones and nested repositories included.
   */
  async updateWorkTree(cacheDir: string, sha: string, dir: string, index: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    const local = { cwd: cacheDir, signal: opts.signal, extraEnv: { GIT_DIR: cacheDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index } };
    await this.verifyCached(local, sha);
    // Compares the commit with the files as the index's stat data sees them: what read-tree is about to rewrite.
    const differ = await this.run({ ...local, args: ['diff-index', '--name-only', '-z', '--no-renames', sha, '--'], operation: 'diff-index' });
    await this.run({ ...local, args: ['read-tree', '--reset', '-u', sha], operation: 'read-tree' });
    await this.run({ ...local, args: ['clean', '-ffdxq'], operation: 'clean' });
    return differ.split('\0').filter(Boolean).length;
  }

  /**
   * Brings the stat data in `index` up to date with the files in `dir`. Files written in the same second as their
   * index cannot be trusted by their timestamps ("racily clean"), so the next update would read every one of them
   * again; refreshed once the tree is at rest, the next update compares timestamps only.
   */
  async refreshIndex(cacheDir: string, dir: string, index: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const local = { cwd: cacheDir, signal: opts.signal, extraEnv: { GIT_DIR: cacheDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index } };
    // -q: files a deploy changed are left marked as changed (the next update rewrites them), not an error.
    await this.run({ ...local, args: ['update-index', '-q', '--refresh'], operation: 'update-index' });
  }

  /** Bytes of the files of commit `sha` in the bare repository `cacheDir` (what a checkout of it occupies, about). */
  async treeBytes(cacheDir: string, sha: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (!isCommitSha(sha)) throw new InvalidInputError('commitSha', 'must be 40 or 64 hex characters');
    const out = await this.run({ cwd: cacheDir, signal: opts.signal, extraEnv: { GIT_DIR: cacheDir }, args: ['ls-tree', '-r', '-l', '--full-tree', sha], operation: 'ls-tree' });
    let total = 0;
    for (const line of out.split('\n')) {
      const size = /^\d+ blob [0-9a-f]+ +(\d+)\t/.exec(line)?.[1];
      if (size) total += Number(size);
    }
    return total;
  }

  private async verifyCached(local: Omit<RunGit, 'args' | 'operation'>, sha: string): Promise<void> {
    const commit = (await this.run({ ...local, args: ['rev-parse', '--verify', '--end-of-options', `${sha}^{commit}`], operation: 'rev-parse' })).trim();
    if (commit !== sha) throw new CommandError(['git', 'rev-parse', sha], 1, `the cache resolved ${commit}, expected ${sha}`);
  }

  /** Resolves a branch, tag or full ref on the remote to its commit, or undefined when it does not exist. */
  async resolveRef(url: string, ref: string, opts: { signal?: AbortSignal } = {}): Promise<string | undefined> {
    if (!isSafeRef(ref)) throw new InvalidInputError('ref', 'is not a valid git ref name');
    assertRemoteUrl(url);
    const out = await this.run({ cwd: process.cwd(), url, signal: opts.signal, args: ['ls-remote', '--', url, ref], operation: `ls-remote ${displayUrl(url)}` });
    const lines = out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
    const wanted = [ref, `refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`];
    for (const name of wanted) {
      const hit = lines.find(([, r]) => r === name);
      if (hit) return hit[0];
    }
    return undefined;
  }

  /** Why the token is not sent to `url` (plain http to another host), for the saga; undefined when it is or there is none. */
  credentialNote(url: string): string | undefined {
    if (!this.config.token || !/^http:\/\//i.test(url) || this.sendsTokenTo(url)) return undefined;
    return 'NORN_GIT_TOKEN was not sent: the remote is plain http:// and not on this machine (use https://, or set NORN_GIT_ALLOW_HTTP_CREDENTIALS=true)';
  }

  /** The command-running layer: every git invocation passes here (see the file comment). */
  private async run(cmd: RunGit): Promise<string> {
    if (cmd.url !== undefined) assertRemoteUrl(cmd.url);
    // git's own stall limit ends a transfer that stops moving even if this process is gone (killed with SIGKILL)
    // and so can no longer enforce the deadline. It is set past the deadline, so that while we live, ours decides.
    const stallSeconds = String(Math.ceil(this.timeoutMs / 1000) + 30);
    const argv = ['git', '-c', 'protocol.ext.allow=never', '-c', 'protocol.fd.allow=never', '-c', 'http.lowSpeedLimit=1', '-c', `http.lowSpeedTime=${stallSeconds}`, ...cmd.args];
    const result = await this.deps.runner(argv, { env: { ...this.env(cmd.url), ...cmd.extraEnv }, cwd: cmd.cwd, signal: cmd.signal, timeoutMs: this.timeoutMs });
    if (result.exitCode === 0 && !result.timedOut) return result.stdout;
    const stderr = this.redact(result.stderrTail.replace(/\n?\(timed out after \d+ ms\)$/, '')).trim();
    if (cmd.url === undefined) throw new CommandError(['git', cmd.operation], result.exitCode, stderr);
    const host = hostOf(cmd.url);
    if (result.timedOut) {
      throw new UpstreamTimeoutError('git', cmd.operation, this.timeoutMs, {
        hint: `check that ${host} is reachable from the receiver and answers git; a slow remote needs a larger NORN_GIT_TIMEOUT_SECONDS`,
      });
    }
    if (result.exitCode === null) {
      // Killed by a signal that was not our deadline: the receiver is shutting down (or an operator killed git).
      throw new UpstreamError('git', cmd.operation, 0, 'git was stopped before it finished', { hint: 'the receiver may be shutting down; try again once it is back' });
    }
    throw new UpstreamError('git', cmd.operation, result.exitCode, stderr || 'git ended without a message', { hint: this.hintFor(stderr, cmd.url) });
  }

  private env(url: string | undefined): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      GIT_TERMINAL_PROMPT: '0',
      // git refuses any other transport, for the URL given and for anything it is redirected or pointed to.
      GIT_ALLOW_PROTOCOL: ALLOWED_GIT_PROTOCOLS.join(':'),
    };
    if (url !== undefined && this.config.token && this.sendsTokenTo(url)) {
      const basic = Buffer.from(`x-access-token:${this.config.token}`).toString('base64');
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    if (this.config.sshKeyPath) {
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      // ConnectTimeout and ServerAlive* end a silent server on ssh's own, like http.lowSpeedTime above.
      const seconds = Math.ceil(this.timeoutMs / 1000) + 30;
      const alive = `-o ServerAliveInterval=${Math.min(15, seconds)} -o ServerAliveCountMax=${Math.max(1, Math.ceil(seconds / 15))}`;
      env.GIT_SSH_COMMAND = `ssh -i ${q(this.config.sshKeyPath)} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${q(this.config.knownHostsPath)} -o ConnectTimeout=${seconds} ${alive}`;
    }
    return env;
  }

  /** https always; plain http only to this machine or when the operator allowed it (the header would travel in clear). */
  private sendsTokenTo(url: string): boolean {
    if (/^https:\/\//i.test(url)) return true;
    if (!/^http:\/\//i.test(url)) return false;
    return this.config.allowHttpCredentials === true || isLoopback(hostOf(url));
  }

  private hintFor(stderr: string, url: string): string {
    const host = hostOf(url);
    const text = stderr.toLowerCase();
    const tokenNote = this.credentialNote(url);
    if (/could not resolve host|name or service not known|temporary failure in name resolution/.test(text)) return `the host ${host} cannot be resolved from the receiver: check repo.url`;
    if (/connection refused|connection timed out|network is unreachable|no route to host|failed to connect|couldn't connect/.test(text)) {
      return `cannot connect to ${host}: check repo.url and that the remote is up and reachable from the receiver`;
    }
    if (/host key verification failed/.test(text)) return `the SSH host key of ${host} is not in NORN_GIT_KNOWN_HOSTS (add it with ssh-keyscan, after checking it)`;
    if (/permission denied|authentication failed|could not read username|terminal prompts disabled|403|401/.test(text)) {
      return tokenNote ?? `the remote refused the credentials: check NORN_GIT_TOKEN (https) or NORN_GIT_SSH_KEY (ssh) and that they can read ${host}`;
    }
    if (/not found|does not appear to be a git repository|repository .* does not exist|404/.test(text)) return 'the remote has no such repository: check repo.url in the app\'s spec';
    if (/not our ref|couldn't find remote ref|no such remote ref|unadvertised object/.test(text)) return 'the remote does not have that commit (was it force-pushed away?)';
    if (/operation too slow|timed out|timeout/.test(text)) return `${host} stopped answering: check that it is up, or raise NORN_GIT_TIMEOUT_SECONDS for a slow remote`;
    return tokenNote ?? 'see the message from git above; check repo.url and the receiver\'s git credentials';
  }

  private redact(text: string): string {
    let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]+@/gi, '$1***@');
    if (this.config.token) out = out.split(this.config.token).join('***');
    return out;
  }
}

/** Remote URLs come from operator specs; refuse anything off the allow-list before git sees it. */
function assertRemoteUrl(url: string): void {
  const problem = remoteUrlProblem(url);
  if (problem) throw new InvalidInputError('repo.url', `is not a usable git remote: ${problem}`, 422);
}

function hostOf(url: string): string {
  if (url.startsWith('/')) return 'this machine';
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return new URL(url).hostname || 'this machine';
  } catch {
    // fall through to the scp-style form
  }
  return /^(?:[^@/:]+@)?([^/:]+):/.exec(url)?.[1] ?? 'the remote';
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}
