// The set of apps the receiver tracks, kept in memory and refreshed when the apps dir changes, so matching a
// push costs no disk access. Changes are seen through a recursive fs.watch (inotify on Linux) and, because
// watchers die silently when the dir is replaced or inotify runs out of watches, through a cheap poll of the
// spec files' stat data as well. Bursts of events (an editor's save, a git checkout) are debounced into one reload.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { PullRequestEvent, PushEvent } from '../webhooks/push-event.js';
import { matchPullRequest } from './match-pull-request.js';
import { loadAppSpecs, SPEC_FILE, type LoadedApp, type LoadedSpecs, type SpecParseCache } from './load-app-specs.js';
import { buildAppIndex, matchPush, type AppIndex, type MatchResult } from './match-push.js';

export interface AppCatalogConfig {
  readonly appsDir: string;
  /** Quiet time after a change before reloading. */
  readonly debounceMs?: number;
  /** How often the spec files' stat data is compared, as a fallback to the watcher. */
  readonly pollIntervalMs?: number;
}

export type CatalogListener = (specs: LoadedSpecs) => void;

export class AppCatalog {
  private index: AppIndex = buildAppIndex([], []);
  private fingerprint: string | undefined;
  private watcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private running = false;
  private readonly listeners = new Set<CatalogListener>();
  private readonly parseCache: SpecParseCache = new Map();

  constructor(
    private readonly config: AppCatalogConfig,
    private readonly deps: { log: Logger },
  ) {}

  /** Reads the apps dir now; resolves with what was loaded. */
  async load(): Promise<LoadedSpecs> {
    await this.reload();
    return this.list();
  }

  /** Starts following changes to the apps dir until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.watchDir();
    void this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.pollTimer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.reloading;
  }

  list(): LoadedSpecs {
    return { apps: [...this.index.apps], errors: [...this.index.errors] };
  }

  get(name: string): LoadedApp | undefined {
    return this.index.byName.get(name);
  }

  match(push: PushEvent): MatchResult {
    return matchPush(this.index, push);
  }

  matchPullRequest(pr: PullRequestEvent): MatchResult {
    return matchPullRequest(this.index, pr);
  }

  /** Calls `listener` after each reload that changed the apps or their errors; returns an unsubscribe function. */
  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private watchDir(): void {
    try {
      this.watcher = watch(this.config.appsDir, { recursive: true, persistent: false }, () => this.scheduleReload());
      this.watcher.on('error', (err) => {
        this.deps.log.warn({ appsDir: this.config.appsDir, err: errorMessage(err) }, 'apps dir watcher failed; polling');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.deps.log.warn({ appsDir: this.config.appsDir, err: errorMessage(err) }, 'cannot watch the apps dir; polling');
    }
  }

  private scheduleReload(): void {
    if (!this.running) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload(), this.config.debounceMs ?? 150);
  }

  private async poll(): Promise<void> {
    const fingerprint = await this.readFingerprint();
    if (!this.running) return;
    // A missing dir leaves a dead watcher behind; drop it so one is made again once the dir is back.
    if (fingerprint === 'missing') {
      this.watcher?.close();
      this.watcher = undefined;
    } else if (!this.watcher) {
      this.watchDir();
    }
    if (fingerprint !== this.fingerprint) this.scheduleReload();
    this.pollTimer = setTimeout(() => void this.poll(), this.config.pollIntervalMs ?? 2000);
    this.pollTimer.unref();
  }

  /** Runs one reload at a time; a request arriving meanwhile causes exactly one more pass afterwards. */
  private reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        await this.reloadOnce();
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    // Taken before reading, so an edit landing during the read still differs at the next poll.
    const fingerprint = await this.readFingerprint();
    const loaded = await loadAppSpecs(this.config.appsDir, this.parseCache);
    this.fingerprint = fingerprint;
    const changed = JSON.stringify(loaded) !== JSON.stringify(this.list());
    this.index = buildAppIndex(loaded.apps, loaded.errors);
    if (!changed) return;
    const { log } = this.deps;
    log.info({ apps: loaded.apps.map((a) => a.name), invalid: loaded.errors.length }, 'app specs loaded');
    for (const e of loaded.errors) log.warn({ file: e.file, path: e.path, line: e.line }, `invalid app spec: ${e.reason}`);
    for (const listener of this.listeners) {
      try {
        listener(this.list());
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'app catalog listener failed');
      }
    }
  }

  /** Names, sizes, mtimes and inodes of the spec files: changes whenever a spec is added, edited or removed. */
  private async readFingerprint(): Promise<string> {
    let names: string[];
    try {
      names = (await readdir(this.config.appsDir)).sort();
    } catch {
      return 'missing';
    }
    const parts = await Promise.all(
      names.flatMap((name) =>
        [SPEC_FILE, 'infraspec.yml'].map(async (file) => {
          const s = await stat(path.join(this.config.appsDir, name, file)).catch(() => undefined);
          return s ? `${name}/${file}:${s.size}:${s.mtimeMs}:${s.ino}` : '';
        }),
      ),
    );
    return parts.filter((p) => p !== '').join('|');
  }
}
