// Which apps a push deploys, and why each app does or does not. Pure: it reads only the in-memory index the
// catalog built, so a webhook request never touches the apps dir. Every matching app deploys, not only the first.
import picomatch from 'picomatch';
import type { PushEvent } from '../webhooks/push-event.js';
import type { LoadedApp, SpecError } from './load-app-specs.js';
import { repoIdentity } from './repo-identity.js';

export interface AppIndex {
  readonly apps: readonly LoadedApp[];
  /** Apps by the identity of their repo.url; apps without a repo are absent. */
  readonly byRepo: ReadonlyMap<string, readonly LoadedApp[]>;
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
  /** One decision per app in the catalog, in catalog order. */
  readonly decisions: readonly MatchDecision[];
  /** The apps to deploy. */
  readonly matched: readonly LoadedApp[];
  /** Every spec currently failing to load; `repo` on an entry tells whether it names this push's repo. */
  readonly invalidSpecs: readonly SpecError[];
}

export function buildAppIndex(apps: readonly LoadedApp[], errors: readonly SpecError[]): AppIndex {
  const byRepo = new Map<string, LoadedApp[]>();
  for (const app of apps) {
    const identity = app.spec.repo ? repoIdentity(app.spec.repo.url) : undefined;
    if (identity) byRepo.set(identity, [...(byRepo.get(identity) ?? []), app]);
  }
  return { apps, byRepo, errors };
}

export function matchPush(index: AppIndex, push: PushEvent): MatchResult {
  const identities = [...new Set(push.repository.urls.map(repoIdentity).filter((i): i is string => i !== undefined))];
  const candidates = new Set(identities.flatMap((i) => index.byRepo.get(i) ?? []));
  const decisions = index.apps.map((app) =>
    candidates.has(app) ? decide(app, push) : { app: app.name, matched: false, reason: repoDiffers(app, identities) },
  );
  const matched = index.apps.filter((_, i) => decisions[i]!.matched);
  return { identities, decisions, matched, invalidSpecs: index.errors };
}

function repoDiffers(app: LoadedApp, identities: readonly string[]): string {
  if (!app.spec.repo) return 'no repo in the spec';
  const pushed = identities.length > 0 ? identities.join(', ') : 'an unrecognized URL';
  return `repo differs: tracks ${repoIdentity(app.spec.repo.url)}, push is for ${pushed}`;
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
