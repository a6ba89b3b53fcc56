// Ids of ledger rows: UUIDv7, time-ordered, so the ledger's primary-key index grows at its end instead of
// touching a random page per insert. Random bits come from a pooled buffer: one getRandomValues per 16 bytes
// cost more than the rest of the id.
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const POOL_IDS = 256;
const pool = new Uint8Array(16 * POOL_IDS);
let next = POOL_IDS;

export function newDeliveryId(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const random = pool.subarray(16 * next, 16 * ++next);
  return v7({ random });
}
