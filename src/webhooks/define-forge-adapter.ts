// The part every ForgeAdapter shares: which headers carry the event and delivery id, refusing an empty
// secret, and rejecting missing or unusable headers with a 400 that names them. A forge supplies only its
// signature check and its event dispatch. The headers kept with a recorded delivery follow from the same lists.
import { headerValue, requireHeader, safeHeaderValue } from './delivery-input.js';
import type { DeliveryMeta } from './payload-fields.js';
import { requireSecret } from './signature.js';
import type { ForgeAdapter, ForgeName, RawDelivery } from './forge-adapter.js';
import type { ParsedDelivery } from './parsed-delivery.js';

export interface HeaderSpec {
  /** The header as the forge's docs spell it, for error messages. */
  readonly label: string;
  /** Lower-case names to try, in order of preference. */
  readonly names: readonly string[];
}

export interface ForgeSpec {
  readonly name: ForgeName;
  readonly event: HeaderSpec;
  readonly delivery: HeaderSpec;
  /** Throws WebhookRejectedError(401) unless the delivery is signed with `secret` (never empty here). */
  verify(delivery: RawDelivery, secret: string): Promise<void> | void;
  /** Turns a delivery whose event and id headers are present into a ParsedDelivery. */
  convert(event: string, delivery: RawDelivery, meta: DeliveryMeta): ParsedDelivery;
}

/** Headers every forge's deliveries keep besides its own event and delivery headers. */
const COMMON_KEPT_HEADERS = ['content-type', 'user-agent'];
/** Longer values are cut when kept: a kept header is for reading, and nothing a forge sends there is this long. */
const MAX_KEPT_HEADER = 500;

export function defineForgeAdapter(spec: ForgeSpec): ForgeAdapter {
  const kept = [...spec.event.names, ...spec.delivery.names, ...COMMON_KEPT_HEADERS];
  return {
    name: spec.name,
    detects: (delivery) => headerValue(delivery, spec.event.names) !== undefined,
    deliveryId: (delivery) => safeHeaderValue(delivery, spec.delivery.names),
    eventName: (delivery) => safeHeaderValue(delivery, spec.event.names),
    async verify(delivery, secret) {
      requireSecret(spec.name, secret);
      await spec.verify(delivery, secret);
    },
    parse(delivery) {
      const event = requireHeader(delivery, spec.event.label, spec.event.names);
      const deliveryId = requireHeader(delivery, spec.delivery.label, spec.delivery.names);
      return spec.convert(event, delivery, { forge: spec.name, deliveryId });
    },
    keptHeaders(delivery) {
      const headers: Record<string, string> = {};
      for (const name of kept) {
        const value = delivery.headers[name];
        if (value !== undefined) headers[name] = value.slice(0, MAX_KEPT_HEADER);
      }
      return headers;
    },
  };
}
