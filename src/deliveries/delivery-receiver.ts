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
import { WebhookRejectedError } from '../errors.js';
import { detectAdapter } from '../webhooks/detect-forge.js';
import type { ForgeAdapter, ForgeName, RawDelivery } from '../webhooks/forge-adapter.js';
import type { ParsedDelivery } from '../webhooks/parsed-delivery.js';
import { inlineParser, type DeliveryParser } from '../webhooks/delivery-parser.js';
import type { DecisionTrace, DeliveryLedger, NewDelivery } from './delivery-ledger.js';
import { decide, rejectionFor } from './delivery-verdict.js';
import { newDeliveryId } from './delivery-id.js';
import type { RejectionAggregate, RejectionThrottle } from './rejection-throttle.js';

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
  /** Where verified bodies are parsed; inline when not given. */
  readonly parser?: DeliveryParser;
}

export class DeliveryReceiver {
  constructor(
    private readonly config: { webhookSecret?: string },
    private readonly deps: DeliveryReceiverDeps,
  ) {
    this.parser = deps.parser ?? inlineParser();
  }

  private readonly parser: DeliveryParser;

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
    } catch (err) {
      return this.reject(adapter.name, deliveryId, raw, err, 'invalid', source);
    }
    const outcome = await this.parser.parse(adapter, raw, this.config.webhookSecret);
    if ('refused' in outcome) return this.reject(adapter.name, deliveryId, raw, outcome.refused, outcome.verified ? 'valid' : 'invalid', source);
    return this.accept(adapter.name, deliveryId!, outcome.parsed, { headers: adapter.keptHeaders(raw), body: raw.body }, null);
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
    const outcome = await this.parser.parse(adapter, raw);
    if ('refused' in outcome) throw outcome.refused;
    return this.accept(forge, adapter.deliveryId(raw) ?? originalId, outcome.parsed, payload, originalId);
  }

  private async accept(
    forge: ForgeName,
    deliveryId: string,
    parsed: ParsedDelivery,
    payload: { headers: Record<string, string>; body: Buffer },
    redeliveryOf: string | null,
  ): Promise<ReceiveResult> {
    const decision = decide(parsed, this.deps.catalog);
    const id = newDeliveryId();
    // Fields of its log lines, not a child logger: building a child costs every delivery, even when info is off.
    const about = { deliveryId: id, forgeDeliveryId: deliveryId, forge };
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
      this.deps.log.info({ ...about, original: original?.id }, 'duplicate delivery answered with the original result');
      this.deps.onAnswered?.(forge, 'duplicate');
      return { status: 200, body: { ...(original?.response ?? {}), duplicate: true } };
    }
    this.deps.sagaLog.announce(events);
    if (events.length > 0) this.deps.onQueued();
    this.deps.log.info({ ...about, verdict: decision.verdict, deploys: deploys.length }, decision.reason);
    this.deps.onAnswered?.(forge, decision.verdict);
    return outcome;
  }

  private async reject(
    forge: ForgeName | 'unknown',
    deliveryId: string | undefined,
    raw: RawDelivery,
    err: unknown,
    signature: DecisionTrace['signature'] = 'invalid',
    source?: string,
  ): Promise<ReceiveResult> {
    const { status, reason, trace } = rejectionFor(err, signature);
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
      trace,
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
