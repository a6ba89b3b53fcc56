// Which forge sent a delivery to /api/webhooks (no provider in the path), judged by headers alone.
// Order matters because forges imitate each other: Forgejo also sends X-Gitea-* headers, and Gitea and
// Forgejo also send X-GitHub-Event, so the most specific header set is tried first and GitHub last.
import type { ForgeAdapter, ForgeName, RawDelivery } from './forge-adapter.js';

export const DETECTION_ORDER: readonly ForgeName[] = ['forgejo', 'gitea', 'gitlab', 'generic', 'github'];

/** The first adapter, in DETECTION_ORDER, whose headers the delivery carries; undefined when none match. */
export function detectAdapter(
  delivery: RawDelivery,
  adapters: Readonly<Record<ForgeName, ForgeAdapter>>,
): ForgeAdapter | undefined {
  return DETECTION_ORDER.map((name) => adapters[name]).find((adapter) => adapter.detects(delivery));
}
