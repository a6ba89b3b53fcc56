// Where a delivery's signature is checked and its body parsed and checked against its forge's schema, behind one
// interface so the receiver does not depend on where that runs.
import type { ForgeAdapter, RawDelivery } from './forge-adapter.js';
import type { ParsedDelivery } from './parsed-delivery.js';

export interface DeliveryParser {
  /** The adapter's verify (when given the secret), then its parse; never rejects. */
  parse(adapter: ForgeAdapter, delivery: RawDelivery, secret?: string): Promise<ParseOutcome>;
  /** Stops what it started; deliveries parsed after are parsed inline. */
  close(): Promise<void>;
}

/**
 * The ParsedDelivery, or what the adapter threw (a WebhookRejectedError: 401 from verify, 400 from parse) and whether
 * the signature had been checked and found good by then.
 */
export type ParseOutcome = { readonly parsed: ParsedDelivery } | { readonly refused: unknown; readonly verified: boolean };

/** The adapter's verify (only when given the secret), then its parse, wherever they run. */
export async function verifyThenParse(adapter: ForgeAdapter, delivery: RawDelivery, secret?: string): Promise<ParseOutcome> {
  if (secret !== undefined) {
    try {
      await adapter.verify(delivery, secret);
    } catch (refused) {
      return { refused, verified: false };
    }
  }
  try {
    return { parsed: adapter.parse(delivery) };
  } catch (refused) {
    return { refused, verified: secret !== undefined };
  }
}

export function inlineParser(): DeliveryParser {
  return {
    parse: verifyThenParse,
    close: async () => {},
  };
}
