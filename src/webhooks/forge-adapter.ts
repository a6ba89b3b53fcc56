// What a forge adapter is: the interface every forge implements (read the headers, verify the raw bytes, parse them
// into a ParsedDelivery), the forges' names and the raw delivery it reads.
import type { ParsedDelivery } from './parsed-delivery.js';

export type ForgeName = 'github' | 'gitea' | 'forgejo' | 'gitlab' | 'generic';

export const FORGE_NAMES: readonly ForgeName[] = ['github', 'gitea', 'forgejo', 'gitlab', 'generic'];

/** The bytes and headers of one delivery as received. Header names are lower-case. */
export interface RawDelivery {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export interface ForgeAdapter {
  readonly name: ForgeName;
  /** True when the headers look like this forge's (used by /api/webhooks detection). */
  detects(delivery: RawDelivery): boolean;
  /** The delivery id the forge sent, or undefined when the header is missing. */
  deliveryId(delivery: RawDelivery): string | undefined;
  /** The event name from the headers, or undefined when missing. */
  eventName(delivery: RawDelivery): string | undefined;
  /** Verifies the raw bytes against the secret in constant time. Throws WebhookRejectedError(401) when it fails. */
  verify(delivery: RawDelivery, secret: string): Promise<void>;
  /** Parses verified bytes. Malformed bodies throw WebhookRejectedError(400). */
  parse(delivery: RawDelivery): ParsedDelivery;
  /**
   * The headers recorded with an accepted delivery, for redelivery and debugging: this forge's event and delivery
   * headers, the content type and the user agent, each cut to 500 characters. Never a signature or a token.
   */
  keptHeaders(delivery: RawDelivery): Record<string, string>;
}
