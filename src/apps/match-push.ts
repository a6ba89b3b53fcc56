// Which apps a push deploys, and why each app does or does not. Pure: it reads only the in-memory index the
// catalog built, so a webhook request never touches the apps dir. Every matching app deploys, not only the first.
import picomatch from 'picomatch';
import type { PushEvent } from '../webhooks/parsed-delivery.js';
import type { LoadedApp, SpecError } from './load-app-specs.js';
import { repoIdentity } from './repo-identity.js';

export interface AppIndex {
  readonly apps: readonly LoadedApp[];
  /** Apps by the identity of their repo.url; apps without a repo are absent. */
  readonly byRepo: ReadonlyMap<string, readonly LoadedApp[]>;
  /** Each app's position in `apps` and its repo identity, so a match never re-parses URLs. */
  readonly positions: ReadonlyMap<LoadedApp, { readonly index: number; readonly identity?: string }>;
  readonly byName: ReadonlyMap<string, LoadedApp>;
  readonly errors: readonly SpecError[];
}

export interface MatchDecision {
  readonly app: string;
  readonly matched: boolean;
  readonly reason: string;
  /** What made a matched app deploy. */
  readonly trigger?: 'branch' | 'tag';
}

export interface MatchResult {
  /** Identities of the push's repository URLs. */
  readonly identities: readonly string[];
  /**
   * In catalog order: a decision for every app tracking this repository, and "repo differs" for the first few that
   * do not (enough to spot a typo in a spec's URL without a trace that grows with the catalog).
   */
  readonly decisions: readonly MatchDecision[];
  /** Apps on other repositories left out of `decisions`. */
  readonly unlisted: number;
  /** The apps to deploy. */
  readonly matched: readonly LoadedApp[];
  /** Every spec currently failing to load; `repo` on an entry tells whether it names this push's repo. */
  readonly invalidSpecs: readonly SpecError[];
}

/** How many apps on other repositories a decision trace names. */
const LISTED_UNRELATED = 20;

export function buildAppIndex(apps: readonly LoadedApp[], errors: readonly SpecError[]): AppIndex {
  const byRepo = new Map<string, LoadedApp[]>();
  const positions = new Map<LoadedApp, { index: number; identity?: string }>();
  const byName = new Map<string, LoadedApp>();
  apps.forEach((app, index) => {
    const identity = app.spec.repo ? repoIdentity(app.spec.repo.url) : undefined;
    positions.set(app, { index, identity });
    byName.set(app.name, app);
    if (!identity) return;
    const list = byRepo.get(identity);
    if (list) list.push(app);
    else byRepo.set(identity, [app]);
  });
  return { apps, byRepo, positions, byName, errors };
}

/** Identities of URLs recent deliveries gave: pushes name the same few repos, and parsing URLs was most of matching. */
const recentIdentities = new Map<string, string | undefined>();
const RECENT_MAX = 4096;

function deliveredIdentity(url: string): string | undefined {
  if (recentIdentities.has(url)) return recentIdentities.get(url);
  const identity = repoIdentity(url);
  // Oldest out first; the URLs come from signed deliveries, so this only bounds memory.
  if (recentIdentities.size >= RECENT_MAX) recentIdentities.delete(recentIdentities.keys().next().value!);
  recentIdentities.set(url, identity);
  return identity;
}

/** The identities of the URLs a delivery gave for its repository. */
export function identitiesOf(urls: readonly string[]): string[] {
  return [...new Set(urls.map(deliveredIdentity).filter((i): i is string => i !== undefined))];
}

/**
 * Decides each app tracking one of `identities` with `decideApp`, and names a few others as "repo differs"; the
 * work is proportional to the apps on this repository, not to the catalog.
 */
export function decideForRepo(
  index: AppIndex,
  identities: readonly string[],
  decideApp: (app: LoadedApp) => MatchDecision,
): Pick<MatchResult, 'decisions' | 'matched' | 'unlisted'> {
  const candidates = new Set(identities.flatMap((i) => index.byRepo.get(i) ?? []));
  const listed: LoadedApp[] = [...candidates];
  let unrelated = 0;
  for (const app of index.apps) {
    if (unrelated >= LISTED_UNRELATED) break;
    if (candidates.has(app)) continue;
    listed.push(app);
    unrelated++;
  }
  const position = (app: LoadedApp) => index.positions.get(app)?.index ?? 0;
  listed.sort((a, b) => position(a) - position(b));
  const decisions = listed.map((app) => (candidates.has(app) ? decideApp(app) : repoDiffers(index, app, identities)));
  const matched = listed.filter((_, i) => decisions[i]!.matched);
  return { decisions, matched, unlisted: index.apps.length - listed.length };
}

export function matchPush(index: AppIndex, push: PushEvent): MatchResult {
  const identities = identitiesOf(push.repository.urls);
  return { identities, ...decideForRepo(index, identities, (app) => decide(app, push)), invalidSpecs: index.errors };
}

function repoDiffers(index: AppIndex, app: LoadedApp, identities: readonly string[]): MatchDecision {
  const tracked = index.positions.get(app)?.identity;
  if (!app.spec.repo || !tracked) return { app: app.name, matched: false, reason: 'no repo in the spec' };
  const pushed = identities.length > 0 ? identities.join(', ') : 'an unrecognized URL';
  return { app: app.name, matched: false, reason: `repo differs: tracks ${tracked}, push is for ${pushed}` };
}

function decide(app: LoadedApp, push: PushEvent): MatchDecision {
  const { spec } = app;
  const repo = spec.repo!; // candidates come from byRepo, which holds only apps with a repo
  const no = (reason: string): MatchDecision => ({ app: app.name, matched: false, reason });
  if (spec.deploy === false) return no('deploy: false');

  let trigger: 'branch' | 'tag';
  let why: string;
  if (push.ref.startsWith('refs/heads/')) {
    const branch = push.ref.slice('refs/heads/'.length);
    if (branch !== repo.branch) return no(`branch ${branch} is not the tracked branch ${repo.branch}`);
    if (!repo.autoDeploy) return no(`autoDeploy is off (push to tracked branch ${branch})`);
    trigger = 'branch';
    why = `push to tracked branch ${branch}`;
  } else if (push.ref.startsWith('refs/tags/')) {
    const tag = push.ref.slice('refs/tags/'.length);
    if (repo.tags === undefined) return no(`tag ${tag} pushed; repo.tags is not set, so tags do not deploy`);
    if (!picomatch.isMatch(tag, repo.tags)) return no(`tag ${tag} does not match ${repo.tags}`);
    trigger = 'tag';
    why = `tag ${tag} matches ${repo.tags}`;
  } else {
    return no(`ref ${push.ref} is neither a branch nor a tag`);
  }

  if (push.deleted) return no(`the push deletes ${push.ref}; nothing to deploy`);
  if (repo.paths) {
    const paths = pathsDecision(repo.paths, push);
    if (!paths.matched) return no(`${why}, but ${paths.reason}`);
    why = `${why}; ${paths.reason}`;
  }
  return { app: app.name, matched: true, reason: why, trigger };
}

function pathsDecision(globs: readonly string[], push: PushEvent): { matched: boolean; reason: string } {
  const touched = push.commits.map((c) => ({ id: c.id, files: [...c.added, ...c.removed, ...c.modified] }));
  // Some pushes carry no file lists (GitLab tag pushes, oversized pushes): then the filter cannot decide, and
  // blocking a deploy on missing data would be worse than deploying.
  if (touched.every((c) => c.files.length === 0)) return { matched: true, reason: 'no file list in push; paths filter not applied' };
  const isMatch = picomatch(globs as string[], { dot: true });
  for (const commit of touched) {
    const file = commit.files.find((f) => isMatch(f));
    if (file) return { matched: true, reason: `commit ${commit.id.slice(0, 7)} touches ${file}` };
  }
  return { matched: false, reason: `no pushed commit touches paths [${globs.join(', ')}]` };
}
