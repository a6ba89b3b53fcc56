// Runs a forge table: each row is a delivery (headers + bytes) in, and the ParsedDelivery out, or the
// WebhookRejectedError status and reason. Every row goes through verify then parse, as the route does.
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { WebhookRejectedError } from '../../../src/errors.js';
import type { ForgeAdapter, RawDelivery } from '../../../src/webhooks/forge-adapter.js';
import type { ParsedDelivery } from '../../../src/webhooks/parsed-delivery.js';

export const SECRET = 'test-secret-do-not-use';

export interface Rejection {
  readonly status: number;
  /** Matched against the reason; rows name the header or field the reason must mention. */
  readonly reason: RegExp;
}

export interface Row {
  readonly name: string;
  readonly headers: Record<string, string | undefined>;
  readonly body: Buffer;
  readonly secret?: string;
  readonly expected: ParsedDelivery | Rejection;
}

export function hmacHex(body: Buffer | string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** verify + parse, resolving to the parsed delivery or to the error thrown. */
export async function receive(adapter: ForgeAdapter, delivery: RawDelivery, secret = SECRET): Promise<unknown> {
  try {
    await adapter.verify(delivery, secret);
    return adapter.parse(delivery);
  } catch (err) {
    return err;
  }
}

export function expectOutcome(outcome: unknown, expected: ParsedDelivery | Rejection): void {
  if ('kind' in expected) {
    if (outcome instanceof Error) throw outcome;
    expect(outcome).to.deep.equal(expected);
    return;
  }
  expect(outcome, 'expected a rejection').to.be.instanceOf(WebhookRejectedError);
  const err = outcome as WebhookRejectedError;
  expect({ status: err.status, reason: err.reason }).to.include({ status: expected.status });
  expect(err.reason).to.match(expected.reason);
}

export function runTable(adapter: ForgeAdapter, rows: readonly Row[]): void {
  for (const row of rows) {
    it(row.name, async () => {
      const outcome = await receive(adapter, { headers: row.headers, body: row.body }, row.secret);
      expectOutcome(outcome, row.expected);
    });
  }
}
