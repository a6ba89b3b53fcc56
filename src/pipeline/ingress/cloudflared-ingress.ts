// The cloudflared config file as norn manages it: route an app's hostnames, remove them on teardown, list the
// rules. Each change is a locked read-edit-validate-write (see files/file-lock.ts, ingress-edit.ts and
// files/write-file-atomic.ts), so concurrent deploys, in this process or another, never lose each other's rules; an unchanged file is not
// written and cloudflared is not restarted. The reload command runs after the lock is released (every writer
// reloads after its own write, so the last reload sees every rule). A failed reload leaves a marker beside
// the config, so the next run retries it even when the file needs no change.
import { readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { commandFailed, type CommandRunner } from '../../integrations/process/run-command.js';
import { CloudflaredConfigError } from '../../integrations/cloudflared/cloudflared-config-error.js';
import { FileLock, LockTimeoutError } from '../../files/file-lock.js';
import { pathExists } from '../../files/path-exists.js';
import { readIngress, type IngressRule } from '../../integrations/cloudflared/ingress-document.js';
import { planAppRemoval, planAppRoutes, type IngressPlan, type IngressRoute } from './ingress-edit.js';
import { writeFileAtomic } from '../../files/write-file-atomic.js';

export interface CloudflaredIngressConfig {
  /** NORN_CLOUDFLARED_CONFIG (a leading ~/ is the home directory). Symlinks are followed and the target edited. */
  readonly configPath: string;
  /** NORN_CLOUDFLARED_RESTART, run with /bin/sh -c. Unset: changes report that cloudflared must be restarted. */
  readonly reloadCommand?: string;
  readonly reloadTimeoutMs: number;
  readonly lockTimeoutMs?: number;
  readonly staleLockMs?: number;
}

export interface CloudflaredIngressDeps {
  readonly runner: CommandRunner;
  readonly log: Logger;
  readonly now?: () => number;
}

export type ReloadOutcome =
  /** The file did not change and no earlier reload is pending. */
  | { readonly status: 'not-needed' }
  | { readonly status: 'reloaded'; readonly command: string; readonly durationMs: number; readonly reason: 'changed' | 'pending' }
  /** The file changed but no reload command is configured: cloudflared must be restarted by hand. */
  | { readonly status: 'not-configured' };

export interface IngressChange extends Omit<IngressPlan, 'text'> {
  readonly configPath: string;
  readonly reload: ReloadOutcome;
}

export interface IngressListing {
  readonly configPath: string;
  readonly rules: readonly IngressRule[];
  /** Why cloudflared (and norn) would refuse the file as it is; empty when valid. */
  readonly problems: readonly string[];
}

export class CloudflaredIngress {
  readonly configPath: string;
  private readonly lock: FileLock;
  private readonly now: () => number;

  constructor(
    private readonly config: CloudflaredIngressConfig,
    private readonly deps: CloudflaredIngressDeps,
  ) {
    this.configPath = config.configPath.startsWith('~/') ? join(homedir(), config.configPath.slice(2)) : config.configPath;
    this.now = deps.now ?? Date.now;
    this.lock = new FileLock({ timeoutMs: config.lockTimeoutMs ?? 30_000, staleMs: config.staleLockMs ?? 30_000 }, { now: this.now });
  }

  /** Gives `app` exactly these routes (one rule per hostname), then reloads cloudflared if anything changed. */
  applyRoutes(app: string, routes: readonly IngressRoute[], opts: { signal?: AbortSignal } = {}): Promise<IngressChange> {
    return this.update(app, (config) => planAppRoutes(config, app, routes), opts.signal);
  }

  /** Removes every rule `app` owns, then reloads cloudflared if anything changed. */
  removeApp(app: string, opts: { signal?: AbortSignal } = {}): Promise<IngressChange> {
    return this.update(app, (config) => planAppRemoval(config, app), opts.signal);
  }

  async listRules(): Promise<IngressListing> {
    const file = await this.resolveFile();
    const { rules, problems } = readIngress(await readFile(file, 'utf8'));
    return { configPath: file, rules, problems };
  }

  private async update(app: string, plan: (config: { path: string; text: string }) => IngressPlan, signal?: AbortSignal): Promise<IngressChange> {
    const file = await this.resolveFile();
    let result: IngressPlan;
    try {
      result = await this.lock.withLock(`${file}.lock`, () => this.rewrite(file, plan), signal);
    } catch (err) {
      if (!(err instanceof LockTimeoutError)) throw err;
      throw new CloudflaredConfigError('locked', file, [`${err.message}, longer than the lock timeout`], { cause: err });
    }
    const { text: _text, ...summary } = result;
    if (result.changed) this.deps.log.info({ app, configPath: file, added: result.added, updated: result.updated, removed: result.removed }, 'cloudflared ingress updated');
    return { configPath: file, ...summary, reload: await this.reload(file, result.changed, signal) };
  }

  private async rewrite(file: string, plan: (config: { path: string; text: string }) => IngressPlan): Promise<IngressPlan> {
    const result = plan({ path: file, text: await readFile(file, 'utf8') });
    if (result.changed) {
      await writeFileAtomic(file, result.text);
      if (this.config.reloadCommand) await writeFile(pendingMarker(file), `${new Date(this.now()).toISOString()}\n`);
    }
    return result;
  }

  private async reload(file: string, changed: boolean, signal?: AbortSignal): Promise<ReloadOutcome> {
    const command = this.config.reloadCommand;
    if (!command) return changed ? { status: 'not-configured' } : { status: 'not-needed' };
    const marker = pendingMarker(file);
    const pending = await pathExists(marker);
    if (!changed && !pending) return { status: 'not-needed' };

    const argv = ['/bin/sh', '-c', command];
    const started = this.now();
    const result = await this.deps.runner(argv, { timeoutMs: this.config.reloadTimeoutMs, signal });
    if (result.exitCode !== 0) {
      await writeFile(marker, `${new Date(this.now()).toISOString()}\n`).catch(() => undefined);
      throw commandFailed(argv, result);
    }
    await rm(marker, { force: true });
    return { status: 'reloaded', command, durationMs: this.now() - started, reason: changed ? 'changed' : 'pending' };
  }

  private async resolveFile(): Promise<string> {
    try {
      return await realpath(this.configPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new CloudflaredConfigError('missing', this.configPath, [
        'the file does not exist; create it with the tunnel, its credentials-file and an ingress list ending in a catch-all rule such as "- service: http_status:404"',
      ]);
    }
  }
}

/** Present while a reload is owed: written with each change, removed by a successful reload. */
function pendingMarker(file: string): string {
  return `${file}.norn-reload-pending`;
}
