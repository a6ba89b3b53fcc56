// What a parsed delivery should do, and why: its verdict, the status it is answered with, the reason, the decision
// trace the ledger keeps and the pipeline runs it asks for. Pure: it reads the delivery and the catalog's
// in-memory match (which never touches the apps dir), and writes nothing.
import type { AppCatalog } from '../apps/app-catalog.js';
import type { LoadedApp } from '../apps/load-app-specs.js';
import type { MatchResult } from '../apps/match-push.js';
import { PREFLIGHT_ACTIONS } from '../apps/match-pull-request.js';
import type { DeployKind } from '../deploys/deploy-record.js';
import { errorMessage, WebhookRejectedError } from '../errors.js';
import type { ParsedDelivery, PullRequestEvent, PushEvent } from '../webhooks/parsed-delivery.js';
import type { DecisionTrace, Verdict } from './delivery-ledger.js';
import { skipMarker } from './skip-markers.js';

/** One pipeline run a delivery asks for. */
export interface DeliveryRun {
  readonly app: LoadedApp;
  readonly kind: DeployKind;
  readonly ref: string;
  readonly commitSha: string;
  readonly prNumber: number | null;
}

export interface Decision {
  readonly verdict: Verdict;
  readonly status: number;
  readonly reason: string;
  readonly trace: DecisionTrace;
  /** What the delivery is about, for the ledger's columns. */
  readonly subject?: { repo: string; ref: string; commitSha: string };
  readonly runs: readonly DeliveryRun[];
}

/** The catalog's matching, the only part of it a verdict reads. */
export type AppMatcher = Pick<AppCatalog, 'match' | 'matchPullRequest'>;

/** The verdict for a delivery whose signature was verified. */
export function decide(parsed: ParsedDelivery, catalog: AppMatcher): Decision {
  const steps = ['signature verified'];
  const trace = (extra: Partial<DecisionTrace>): DecisionTrace => ({ signature: 'valid', steps, apps: [], invalidSpecs: [], ...extra });
  switch (parsed.kind) {
    case 'ping':
      return { verdict: 'ping', status: 200, reason: 'ping received', trace: trace({ event: 'ping' }), runs: [] };
    case 'ignored':
      return { verdict: 'ignored', status: 200, reason: parsed.reason, trace: trace({ event: parsed.event }), runs: [] };
    case 'pull_request':
      return decidePullRequest(parsed, steps, catalog);
    case 'push':
      return decidePush(parsed, steps, catalog);
  }
}

function decidePush(push: PushEvent, steps: string[], catalog: AppMatcher): Decision {
  const base = { signature: 'valid' as const, event: 'push', ref: push.ref, commitSha: push.after, steps };
  const subject = { repo: push.repository.fullName, ref: push.ref, commitSha: push.after };
  if (push.deleted) {
    return { verdict: 'ignored', status: 200, reason: `${push.ref} was deleted; nothing to deploy`, trace: { ...base, apps: [], invalidSpecs: [] }, subject, runs: [] };
  }
  const marker = skipMarker(push.headCommitMessage);
  if (marker) {
    return { verdict: 'ignored', status: 200, reason: `head commit message says ${marker}`, trace: { ...base, apps: [], invalidSpecs: [] }, subject, runs: [] };
  }
  const match = catalog.match(push);
  const runs = match.matched.map((app) => ({ app, kind: 'deploy' as const, ref: push.ref, commitSha: push.after, prNumber: null }));
  return verdictFor(match, runs, base, subject, `${push.after.slice(0, 12)}`, push.repository.fullName);
}

function decidePullRequest(pr: PullRequestEvent, steps: string[], catalog: AppMatcher): Decision {
  const ref = `refs/pull/${pr.number}/head`;
  const base = { signature: 'valid' as const, event: 'pull_request', ref, commitSha: pr.headSha, steps };
  const subject = { repo: pr.repository.fullName, ref, commitSha: pr.headSha };
  if (!(PREFLIGHT_ACTIONS as readonly string[]).includes(pr.action)) {
    const reason = `pull request #${pr.number} ${pr.action}: only ${PREFLIGHT_ACTIONS.join('/')} run a preflight`;
    return { verdict: 'ignored', status: 200, reason, trace: { ...base, apps: [], invalidSpecs: [] }, subject, runs: [] };
  }
  const match = catalog.matchPullRequest(pr);
  const runs = match.matched.map((app) => ({ app, kind: 'preflight' as const, ref, commitSha: pr.headSha, prNumber: pr.number }));
  return verdictFor(match, runs, base, subject, `preflight of #${pr.number} at ${pr.headSha.slice(0, 12)}`, pr.repository.fullName);
}

/**
 * Queued when something matched; otherwise why nothing did, naming broken specs that might have. `what` names the
 * work in a queued reason (a short SHA, or the preflight of a PR); `repoName` stands in when no URL was recognized.
 */
export function verdictFor(
  match: MatchResult,
  runs: readonly DeliveryRun[],
  base: Omit<DecisionTrace, 'apps' | 'invalidSpecs'>,
  subject: Decision['subject'],
  what: string,
  repoName: string,
): Decision {
  const steps = [...base.steps, `repository identities: ${match.identities.join(', ') || 'none recognized'}`];
  if (match.unlisted > 0) steps.push(`${match.unlisted} more app(s) track other repositories`);
  const invalidSpecs = match.invalidSpecs
    .filter((e) => !e.repo || match.identities.includes(e.repo))
    .map((e) => ({ file: e.file, path: e.path, reason: e.reason }));
  const trace: DecisionTrace = { ...base, steps, apps: match.decisions.map((d) => ({ app: d.app, matched: d.matched, reason: d.reason })), invalidSpecs };
  if (runs.length > 0) {
    const names = runs.map((r) => r.app.name).join(', ');
    const seen = new Set<string>();
    const specWarnings = runs
      .filter((r) => !seen.has(r.app.name) && seen.add(r.app.name))
      .flatMap((r) => r.app.warnings.map((w) => ({ app: r.app.name, path: w.path, reason: w.reason })));
    const traced = specWarnings.length > 0 ? { ...trace, specWarnings } : trace;
    return { verdict: 'queued', status: 202, reason: `queued ${names}: ${what}`, trace: traced, subject, runs };
  }
  const relevant = trace.apps.filter((d) => !d.reason.startsWith('repo differs') && d.reason !== 'no repo in the spec');
  const why = relevant.length > 0 ? relevant.map((d) => `${d.app}: ${d.reason}`).join('; ') : `no app tracks ${match.identities[0] ?? repoName}`;
  const broken = invalidSpecs.length > 0 ? `; ${invalidSpecs.length} invalid spec(s): ${invalidSpecs.map((e) => `${e.file} ${e.path} ${e.reason}`).join('; ')}` : '';
  return { verdict: 'no-match', status: 200, reason: `nothing to deploy: ${why}${broken}`, trace, subject, runs: [] };
}

/** A refused delivery's verdict: the status, the reason answered and recorded, and the trace's signature state. */
export interface Rejection {
  readonly verdict: 'rejected';
  readonly status: number;
  readonly reason: string;
  readonly trace: DecisionTrace;
}

/**
 * The verdict for a delivery refused with `err`: a WebhookRejectedError's status and reason, else 400 naming what the
 * parser choked on. `signature` is how far checking got before the refusal ('valid' once verified); a 401 is always
 * a signature found invalid.
 */
export function rejectionFor(err: unknown, signature: DecisionTrace['signature']): Rejection {
  const status = err instanceof WebhookRejectedError ? err.status : 400;
  const reason = err instanceof WebhookRejectedError ? err.reason : `malformed delivery: ${errorMessage(err)}`;
  const checked = status === 401 ? 'invalid' : signature === 'valid' ? 'valid' : 'not checked';
  return { verdict: 'rejected', status, reason, trace: { signature: checked, steps: [reason], apps: [], invalidSpecs: [] } };
}
