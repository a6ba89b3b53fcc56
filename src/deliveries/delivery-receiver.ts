// What happens to one webhook delivery: pick the forge, verify the raw bytes, parse, decide, then record the
// delivery and queue its deploys in one transaction, and answer. Deploys run later in the scheduler, never
// inside the request. Every attempt is recorded, rejected ones included, with the reason.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AppCatalog } from '../apps/app-catalog.js';
import type { DeployLifecycle } from '../deploys/deploy-lifecycle.js';
import type { SagaEvent } from '../events/saga-event.js';
import type { SagaLog } from '../events/saga-log.js';
import { errorMessage, WebhookRejectedError } from '../errors.js';
import { detectAdapter } from '../webhooks/detect-forge.js';
import type { LoadedApp } from '../apps/load-app-specs.js';
import type { MatchResult } from '../apps/match-push.js';
import { PREFLIGHT_ACTIONS } from '../apps/match-pull-request.js';
import type { DeployKind } from '../deploys/deploy-record.js';
import type { ForgeAdapter, ForgeName, ParsedDelivery, PullRequestEvent, PushEvent, RawDelivery } from '../webhooks/push-event.js';
import type { DecisionTrace, DeliveryLedger, NewDelivery, Verdict } from './delivery-ledger.js';
import { newDeliveryId } from './delivery-id.js';
import type { RejectionAggregate, RejectionThrottle } from './rejection-throttle.js';
import { skipMarker } from './skip-markers.js';

export interface ReceiveResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** Sent as Retry-After (429 to a source over its refusal limit, 503 when busy). */
  readonly retryAfterSeconds?: number;
}

export interface DeliveryReceiverDeps {
  readonly knex: Knex;
  readonly adapters: Readonly<Record<ForgeName, ForgeAdapter>>;
  readonly catalog: Pick<AppCatalog, 'match' | 'matchPullRequest' | 'get'>;
  readonly ledger: DeliveryLedger;
  readonly queue: Pick<DeployLifecycle, 'queueIn'>;
  readonly sagaLog: SagaLog;
  readonly log: Logger;
  /** Called after deploys were queued. */
  readonly onQueued: () => void;
  /** Called once per answered delivery with its forge and verdict ('duplicate' for a repeated id); for metrics. */
  readonly onAnswered?: (forge: string, verdict: string) => void;
  /** Bounds how many refusals per sending address are recorded one by one; without it, all are. */
  readonly throttle?: RejectionThrottle;
}

/** Headers worth keeping with a delivery (for redelivery and debugging); signatures and tokens are dropped. */
const KEPT_HEADER = /^(x-github-event|x-github-delivery|x-gitea-event|x-gitea-delivery|x-gogs-event|x-gogs-delivery|x-forgejo-event|x-forgejo-delivery|x-gitlab-event|x-gitlab-event-uuid|x-gitlab-webhook-uuid|idempotency-key|x-norn-event|x-norn-delivery|content-type|user-agent)$/;

/** One pipeline run a delivery asks for. */
interface Run {
  app: LoadedApp;
  kind: DeployKind;
  ref: string;
  commitSha: string;
  prNumber: number | null;
}

interface Decision {
  verdict: Verdict;
  status: number;
  reason: string;
  trace: DecisionTrace;
  /** What the delivery is about, for the ledger's columns. */
  subject?: { repo: string; ref: string; commitSha: string };
  runs: Run[];
}

export class DeliveryReceiver {
  constructor(
    private readonly config: { webhookSecret?: string },
    private readonly deps: DeliveryReceiverDeps,
  ) {}

  /**
   * Handles one delivery; `provider` is the forge named in the path, or undefined to detect it from headers;
   * `source` is the sender's address, which refusals are counted by.
   */
  async receive(provider: ForgeName | undefined, raw: RawDelivery, source?: string): Promise<ReceiveResult> {
    const adapter = provider ? this.deps.adapters[provider] : detectAdapter(raw, this.deps.adapters);
    if (!adapter) return this.reject('unknown', undefined, raw, new WebhookRejectedError(400, 'cannot tell which forge sent this delivery: no known event header'), 'invalid', source);
    const deliveryId = adapter.deliveryId(raw);
    try {
      if (!this.config.webhookSecret) throw new WebhookRejectedError(503, 'webhooks are disabled: NORN_WEBHOOK_SECRET is not set on the receiver');
      if (!deliveryId) throw new WebhookRejectedError(400, `missing delivery id header for ${adapter.name}`);
      if (!adapter.eventName(raw)) throw new WebhookRejectedError(400, `missing event header for ${adapter.name}`);
      await adapter.verify(raw, this.config.webhookSecret);
    } catch (err) {
      return this.reject(adapter.name, deliveryId, raw, err, 'invalid', source);
    }
    let parsed: ParsedDelivery;
    try {
      parsed = adapter.parse(raw);
    } catch (err) {
      return this.reject(adapter.name, deliveryId, raw, err, 'valid', source);
    }
    return this.accept(adapter.name, deliveryId!, parsed, keptPayload(raw), null);
  }

  /** Records a delivery refused before its body was read (too large), and answers with that refusal. */
  async rejectUnread(provider: ForgeName | undefined, raw: RawDelivery, err: WebhookRejectedError, source?: string): Promise<ReceiveResult> {
    const adapter = provider ? this.deps.adapters[provider] : detectAdapter(raw, this.deps.adapters);
    return this.reject(adapter?.name ?? 'unknown', adapter?.deliveryId(raw), raw, err, 'not checked', source);
  }

  /**
   * Answers a delivery refused unread because the receiver is holding as many bodies as it may (503): counted into
   * its address's aggregate row, never recorded alone, so an overload does not also become a burst of writes.
   */
  refuseBusy(provider: ForgeName | undefined, err: WebhookRejectedError, retryAfterSeconds: number, source?: string): ReceiveResult {
    if (source !== undefined) this.deps.throttle?.count(source, err.status, err.reason);
    this.deps.onAnswered?.(provider ?? 'unknown', 'rejected');
    return { status: err.status, retryAfterSeconds, body: { verdict: 'rejected', error: err.reason } };
  }

  /**
   * Records the refusals the throttle counted instead of recording (one row per address and minute); `all` at
   * shutdown, else only minutes that are over. Returns how many rows it wrote.
   */
  async recordThrottled(all = false): Promise<number> {
    const aggregates = this.deps.throttle?.drain(Date.now(), all) ?? [];
    for (const a of aggregates) await this.deps.ledger.insertIn(this.deps.knex, aggregateRow(a));
    return aggregates.length;
  }

  /** Runs a recorded delivery again as a new attempt linked to the original (the forge's id is kept). */
  async redeliver(originalId: string, payload: { headers: Record<string, string>; body: Buffer }, forge: ForgeName): Promise<ReceiveResult> {
    const adapter = this.deps.adapters[forge];
    const raw: RawDelivery = { headers: payload.headers, body: payload.body };
    const parsed = adapter.parse(raw);
    return this.accept(forge, adapter.deliveryId(raw) ?? originalId, parsed, payload, originalId);
  }

  private async accept(
    forge: ForgeName,
    deliveryId: string,
    parsed: ParsedDelivery,
    payload: { headers: Record<string, string>; body: Buffer },
    redeliveryOf: string | null,
  ): Promise<ReceiveResult> {
    const decision = this.decide(parsed);
    const id = newDeliveryId();
    const log = this.deps.log.child({ deliveryId: id, forgeDeliveryId: deliveryId, forge });
    const base: Omit<NewDelivery, 'response' | 'statusCode'> = {
      id,
      forge,
      deliveryId,
      event: decision.trace.event ?? null,
      verdict: decision.verdict,
      reason: decision.reason,
      trace: decision.trace,
      repo: decision.subject?.repo ?? null,
      ref: decision.subject?.ref ?? null,
      commitSha: decision.subject?.commitSha ?? null,
      redeliveryOf,
      dedupe: redeliveryOf === null,
      payload,
    };
    let events: SagaEvent[] = [];
    // Saga ids are chosen here so the answer (and the ledger row holding it) can name them before they are queued.
    const deploys = decision.runs.map((run) => ({ app: run.app.name, kind: run.kind, sagaId: randomUUID(), commitSha: run.commitSha }));
    const response = { deliveryId: id, verdict: decision.verdict, reason: decision.reason, deploys };
    // The ledger row goes first: a duplicate (unique on forge + delivery id) is refused before anything else is
    // written, so it never leaves a rolled-back saga event behind, a gap that live clients would wait out.
    const recordDelivery = async (db: Knex | Knex.Transaction) => {
      if (!(await this.deps.ledger.insertIn(db, { ...base, statusCode: decision.status, response }))) throw new DuplicateDelivery();
    };
    const recordAndEnqueue = async (trx: Knex.Transaction) => {
      await recordDelivery(trx);
      for (const [i, run] of decision.runs.entries()) {
        const queued = await this.deps.queue.queueIn(trx, {
          id: deploys[i]!.sagaId,
          app: run.app.name,
          kind: run.kind,
          ref: run.ref,
          commitSha: run.commitSha,
          trigger: redeliveryOf ? 'redeliver' : run.kind === 'preflight' ? 'pull_request' : 'push',
          deliveryId: id,
          forge,
          repoFullName: decision.subject?.repo ?? null,
          // The spec's URL, not the payload's: the operator decides where code is fetched from.
          cloneUrl: run.app.spec.repo!.url,
          prNumber: run.prNumber,
        });
        events.push(...queued.events);
      }
    };
    // Most deliveries queue nothing: then the ledger row is one autocommitted statement, no transaction around it.
    const outcome = await (decision.runs.length === 0 ? recordDelivery(this.deps.knex) : this.deps.knex.transaction(recordAndEnqueue)).then(
      () => ({ status: decision.status, body: response }),
      (err) => {
        if (err instanceof DuplicateDelivery) return undefined;
        throw err;
      },
    );
    if (!outcome) {
      events = [];
      const original = await this.deps.ledger.findAccepted(forge, deliveryId);
      log.info({ original: original?.id }, 'duplicate delivery answered with the original result');
      this.deps.onAnswered?.(forge, 'duplicate');
      return { status: 200, body: { ...(original?.response ?? {}), duplicate: true } };
    }
    this.deps.sagaLog.announce(events);
    if (events.length > 0) this.deps.onQueued();
    log.info({ verdict: decision.verdict, deploys: deploys.length }, decision.reason);
    this.deps.onAnswered?.(forge, decision.verdict);
    return outcome;
  }

  private decide(parsed: ParsedDelivery): Decision {
    const steps = ['signature verified'];
    const trace = (extra: Partial<DecisionTrace>): DecisionTrace => ({ signature: 'valid', steps, apps: [], invalidSpecs: [], ...extra });
    switch (parsed.kind) {
      case 'ping':
        return { verdict: 'ping', status: 200, reason: 'ping received', trace: trace({ event: 'ping' }), runs: [] };
      case 'ignored':
        return { verdict: 'ignored', status: 200, reason: parsed.reason, trace: trace({ event: parsed.event }), runs: [] };
      case 'pull_request':
        return this.decidePullRequest(parsed, steps);
      case 'push':
        return this.decidePush(parsed, steps);
    }
  }

  private decidePush(push: PushEvent, steps: string[]): Decision {
    const base = { signature: 'valid' as const, event: 'push', ref: push.ref, commitSha: push.after, steps };
    const subject = { repo: push.repository.fullName, ref: push.ref, commitSha: push.after };
    if (push.deleted) {
      return { verdict: 'ignored', status: 200, reason: `${push.ref} was deleted; nothing to deploy`, trace: { ...base, apps: [], invalidSpecs: [] }, subject, runs: [] };
    }
    const marker = skipMarker(push.headCommitMessage);
    if (marker) {
      return { verdict: 'ignored', status: 200, reason: `head commit message says ${marker}`, trace: { ...base, apps: [], invalidSpecs: [] }, subject, runs: [] };
    }
    const match = this.deps.catalog.match(push);
    const runs = match.matched.map((app) => ({ app, kind: 'deploy' as const, ref: push.ref, commitSha: push.after, prNumber: null }));
    return this.verdictFor(match, runs, base, subject, `${push.after.slice(0, 12)}`, push.repository.fullName);
  }

  private decidePullRequest(pr: PullRequestEvent, steps: string[]): Decision {
    const ref = `refs/pull/${pr.number}/head`;
    const base = { signature: 'valid' as const, event: 'pull_request', ref, commitSha: pr.headSha, steps };
    const subject = { repo: pr.repository.fullName, ref, commitSha: pr.headSha };
    if (!(PREFLIGHT_ACTIONS as readonly string[]).includes(pr.action)) {
      const reason = `pull request #${pr.number} ${pr.action}: only ${PREFLIGHT_ACTIONS.join('/')} run a preflight`;
      return { verdict: 'ignored', status: 200, reason, trace: { ...base, apps: [], invalidSpecs: [] }, subject, runs: [] };
    }
    const match = this.deps.catalog.matchPullRequest(pr);
    const runs = match.matched.map((app) => ({ app, kind: 'preflight' as const, ref, commitSha: pr.headSha, prNumber: pr.number }));
    return this.verdictFor(match, runs, base, subject, `preflight of #${pr.number} at ${pr.headSha.slice(0, 12)}`, pr.repository.fullName);
  }

  /** Queued when something matched; otherwise why nothing did, naming broken specs that might have. */
  private verdictFor(
    match: MatchResult,
    runs: Run[],
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

  private async reject(
    forge: ForgeName | 'unknown',
    deliveryId: string | undefined,
    raw: RawDelivery,
    err: unknown,
    signature: DecisionTrace['signature'] = 'invalid',
    source?: string,
  ): Promise<ReceiveResult> {
    const status = err instanceof WebhookRejectedError ? err.status : 400;
    const reason = err instanceof WebhookRejectedError ? err.reason : `malformed delivery: ${errorMessage(err)}`;
    const admission = source !== undefined && this.deps.throttle ? this.deps.throttle.admit(source, status, reason) : { record: true as const };
    if (!admission.record) {
      this.deps.onAnswered?.(forge, 'rejected');
      const error = `too many refused deliveries from ${source} this minute; the rest are counted, not recorded one by one (NORN_REJECTED_PER_MINUTE). This one: ${reason}`;
      return { status: 429, retryAfterSeconds: admission.retryAfterSeconds, body: { verdict: 'rejected', error } };
    }
    const id = newDeliveryId();
    const body = { deliveryId: id, verdict: 'rejected', error: reason };
    await this.deps.ledger.insertIn(this.deps.knex, {
      id,
      forge: forge as ForgeName,
      deliveryId: deliveryId ?? '',
      event: null,
      verdict: 'rejected',
      statusCode: status,
      reason,
      trace: { signature: status === 401 ? 'invalid' : signature === 'valid' ? 'valid' : 'not checked', steps: [reason], apps: [], invalidSpecs: [] },
      response: body,
      repo: null,
      ref: null,
      commitSha: null,
      redeliveryOf: null,
      dedupe: false,
    });
    this.deps.log.warn({ deliveryId: id, forge, status, contentLength: raw.body.length }, `delivery rejected: ${reason}`);
    this.deps.onAnswered?.(forge, 'rejected');
    return { status, body };
  }
}

class DuplicateDelivery extends Error {}

function aggregateRow(a: RejectionAggregate): NewDelivery {
  const statuses = Object.entries(a.statuses).map(([status, n]) => `${n}×${status}`).join(', ');
  const reason = `${a.count} more refused deliveries from ${a.source} between ${a.firstAt} and ${a.lastAt} (would-be statuses ${statuses}), not recorded one by one (over NORN_REJECTED_PER_MINUTE, or the receiver was busy); the last: ${a.lastReason}`;
  return {
    id: newDeliveryId(),
    forge: 'unknown' as ForgeName,
    deliveryId: '',
    event: null,
    verdict: 'rejected',
    statusCode: 429,
    reason,
    trace: { signature: 'not checked', steps: [reason], apps: [], invalidSpecs: [] },
    response: { verdict: 'rejected', aggregated: a.count, source: a.source },
    repo: null,
    ref: null,
    commitSha: null,
    redeliveryOf: null,
    dedupe: false,
    receivedAt: a.lastAt,
  };
}

function keptPayload(raw: RawDelivery): { headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.headers)) if (v !== undefined && KEPT_HEADER.test(k)) headers[k] = v.slice(0, 500);
  return { headers, body: raw.body };
}
