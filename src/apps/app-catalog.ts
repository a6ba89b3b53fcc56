// The set of apps the receiver tracks, kept in memory and refreshed when the apps dir changes, so matching a
// push costs no disk access. Changes are seen through a recursive fs.watch (inotify on Linux) and, because
// watchers die silently when the dir is replaced or inotify runs out of watches, through a cheap poll of the
// spec files' stat data as well. Bursts of events (an editor's save, a git checkout) are debounced into one reload.
// A reload reads only the app dirs the watcher named (an edit is live in milliseconds, whatever the catalog's
// size); the whole dir is read at start, when the watcher names nothing, and when the poll finds a change the
// watcher did not report.
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { PullRequestEvent, PushEvent } from '../webhooks/parsed-delivery.js';
import { matchPullRequest } from './match-pull-request.js';
import {
  combineAppDirs,
  listAppDirs,
  loadAppDir,
  loadAppDirs,
  SPEC_FILE,
  type AppDirResult,
  type LoadedApp,
  type LoadedSpecs,
  type SpecError,
  type SpecParseCache,
} from './load-app-specs.js';
import { buildAppIndex, matchPush, type AppIndex, type MatchResult } from './match-push.js';

export interface AppCatalogConfig {
  readonly appsDir: string;
  /** Quiet time after a change before reloading. */
  readonly debounceMs?: number;
  /** How often the spec files' stat data is compared, as a fallback to the watcher. */
  readonly pollIntervalMs?: number;
}

export type CatalogListener = (specs: LoadedSpecs) => void;

/** Stat data of the spec files by `<dir>/<file>`: differs whenever a spec is added, edited or removed. */
type Fingerprint = Map<string, string> | 'missing';

const SPEC_NAMES = [SPEC_FILE, 'infraspec.yml'];

export class AppCatalog {
  private index: AppIndex = buildAppIndex([], []);
  private fingerprint: Fingerprint | undefined;
  /** The app dirs, sorted, and what each holds, as last read. */
  private dirs: string[] = [];
  private dirsError: SpecError | undefined;
  private readonly results = new Map<string, AppDirResult>();
  /** Top-level names the watcher reported since the last reload; `everything` when it could not say. */
  private readonly dirty = new Set<string>();
  private everything = true;
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
    this.everything = true;
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
      this.watcher = watch(this.config.appsDir, { recursive: true, persistent: false }, (_event, filename) => {
        if (filename) this.dirty.add(String(filename).split(path.sep)[0]!);
        else this.everything = true;
        this.scheduleReload();
      });
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
    if (!sameFingerprint(fingerprint, this.fingerprint)) {
      this.everything = true;
      this.scheduleReload();
    }
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
    const named = [...this.dirty];
    this.dirty.clear();
    const before = { dirs: this.dirs, dirsError: this.dirsError, results: new Map(this.results) };
    if (this.everything || this.fingerprint === undefined || this.fingerprint === 'missing') await this.readAll();
    else await this.readNamed(named);
    // The parse cache hands back the same object for an unchanged file, so comparing by identity finds every change.
    const changed =
      this.dirsError?.reason !== before.dirsError?.reason ||
      this.dirs.length !== before.dirs.length ||
      this.dirs.some((d, i) => d !== before.dirs[i] || this.results.get(d) !== before.results.get(d));
    if (!changed) return;
    const loaded = this.dirsError ? { apps: [], errors: [this.dirsError] } : combineAppDirs(this.dirs.map((d) => this.results.get(d)));
    this.index = buildAppIndex(loaded.apps, loaded.errors);
    const { log } = this.deps;
    log.info({ apps: loaded.apps.length, invalid: loaded.errors.length }, 'app specs loaded');
    for (const e of loaded.errors) log.warn({ file: e.file, path: e.path, line: e.line }, `invalid app spec: ${e.reason}`);
    for (const listener of this.listeners) {
      try {
        listener(this.list());
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'app catalog listener failed');
      }
    }
  }

  /** Reads every app dir. */
  private async readAll(): Promise<void> {
    this.everything = false;
    // Taken before reading, so an edit landing during the read still differs at the next poll.
    this.fingerprint = await this.readFingerprint();
    const listed = await listAppDirs(this.config.appsDir);
    this.dirsError = 'error' in listed ? listed.error : undefined;
    this.dirs = 'error' in listed ? [] : listed;
    const results = await loadAppDirs(this.config.appsDir, this.dirs, this.parseCache);
    this.results.clear();
    this.dirs.forEach((d, i) => this.results.set(d, results[i]));
  }

  /** Reads the app dirs the watcher named: an edited, added or removed app, without touching the others. */
  private async readNamed(names: readonly string[]): Promise<void> {
    const fingerprint = this.fingerprint as Map<string, string>;
    for (const name of names) {
      if (name.startsWith('.') || name === '') continue;
      const dir = path.join(this.config.appsDir, name);
      const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
      const known = this.results.has(name);
      if (!isDir) {
        if (!known) continue; // a file at the top level, or a dir that came and went
        this.dirs = this.dirs.filter((d) => d !== name);
        this.results.delete(name);
        this.parseCache.delete(path.join(dir, SPEC_FILE));
      } else {
        if (!known) this.dirs = [...this.dirs, name].sort();
        // Stat data first, as in readAll: an edit landing during the read still differs at the next poll.
        for (const file of SPEC_NAMES) setStat(fingerprint, `${name}/${file}`, await stat(path.join(dir, file)).catch(() => undefined));
        this.results.set(name, await loadAppDir(this.config.appsDir, name, this.parseCache));
        continue;
      }
      for (const file of SPEC_NAMES) fingerprint.delete(`${name}/${file}`);
    }
  }

  /** Names, sizes, mtimes and inodes of the spec files. */
  private async readFingerprint(): Promise<Fingerprint> {
    let names: string[];
    try {
      names = await readdir(this.config.appsDir);
    } catch {
      return 'missing';
    }
    const fingerprint = new Map<string, string>();
    await Promise.all(
      names.flatMap((name) =>
        SPEC_NAMES.map(async (file) => setStat(fingerprint, `${name}/${file}`, await stat(path.join(this.config.appsDir, name, file)).catch(() => undefined))),
      ),
    );
    return fingerprint;
  }
}

function setStat(fingerprint: Map<string, string>, key: string, s: Stats | undefined): void {
  if (s) fingerprint.set(key, `${s.size}:${s.mtimeMs}:${s.ino}`);
  else fingerprint.delete(key);
}

function sameFingerprint(a: Fingerprint | undefined, b: Fingerprint | undefined): boolean {
  if (a === undefined || b === undefined || a === 'missing' || b === 'missing') return a === b;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
