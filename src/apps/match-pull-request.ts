// Which apps a pull request gets a preflight check for: the PR's repository is the app's, and its base branch is
// the app's tracked branch. Like matchPush, it reads only the in-memory index.
import type { PullRequestEvent } from '../webhooks/parsed-delivery.js';
import { decideForRepo, identitiesOf, type AppIndex, type MatchResult } from './match-push.js';

/** PR actions that put new code up for review: the ones a preflight runs on (GitHub's and Gitea's names). */
export const PREFLIGHT_ACTIONS = ['opened', 'synchronize', 'synchronized', 'reopened'] as const;

export function matchPullRequest(index: AppIndex, pr: PullRequestEvent): MatchResult {
  const identities = identitiesOf(pr.repository.urls);
  const result = decideForRepo(index, identities, (app) => {
    const no = (reason: string) => ({ app: app.name, matched: false, reason });
    if (app.spec.deploy === false) return no('deploy: false');
    const tracked = app.spec.repo!.branch;
    if (pr.baseBranch !== tracked) return no(`pull request targets ${pr.baseBranch}, not the tracked branch ${tracked}`);
    return { app: app.name, matched: true, reason: `pull request #${pr.number} targets tracked branch ${tracked}` };
  });
  return { identities, ...result, invalidSpecs: index.errors };
}
