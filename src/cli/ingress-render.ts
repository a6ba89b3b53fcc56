// How cloudflared's ingress reads in the CLI: the rules in file order, with the app that owns each.
import type { IngressListing } from './ops-api-types.js';
import { textTable } from './text-table.js';

export function ingressLines(listing: IngressListing): string[] {
  const lines = [`cloudflared ingress in ${listing.configPath}`];
  if (listing.rules.length === 0) lines.push('  no rules');
  else {
    const rows = listing.rules.map((r) => [String(r.index + 1), r.hostname ?? '*', r.path ?? '-', r.service ?? '-', r.owner ?? '-']);
    lines.push(...textTable(['#', 'HOSTNAME', 'PATH', 'SERVICE', 'APP'], rows, { alignRight: [0] }).map((l) => `  ${l}`));
  }
  if (listing.problems.length > 0) lines.push('cloudflared would refuse this file:', ...listing.problems.map((p) => `  ✗ ${p}`));
  return lines;
}

/** The hostnames `app` owns, for the teardown question. */
export function ownedHostnames(listing: IngressListing, app: string): string[] {
  return listing.rules.filter((r) => r.owner === app).map((r) => `${r.hostname ?? '*'}${r.path ? ` ${r.path}` : ''}`);
}
