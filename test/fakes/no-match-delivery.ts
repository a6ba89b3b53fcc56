// A ledger row as the receiver writes it for a signed push that matched no app: the shape the ledger tests insert.
import type { NewDelivery } from '../../src/deliveries/delivery-ledger.js';
import { newDeliveryId } from '../../src/deliveries/delivery-id.js';

export function noMatchDelivery(opts: { deliveryId?: string; body?: Buffer } = {}, extra: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: newDeliveryId(),
    forge: 'github',
    deliveryId: opts.deliveryId ?? `d-${newDeliveryId()}`,
    event: 'push',
    verdict: 'no-match',
    statusCode: 200,
    reason: 'nothing to deploy',
    trace: { signature: 'valid', steps: [], apps: [], invalidSpecs: [] },
    response: { verdict: 'no-match' },
    repo: 'acme/shop',
    ref: 'refs/heads/main',
    commitSha: 'a'.repeat(40),
    redeliveryOf: null,
    dedupe: true,
    payload: { headers: { 'x-github-event': 'push' }, body: opts.body ?? Buffer.alloc(8 * 1024, 'x') },
    ...extra,
  };
}
