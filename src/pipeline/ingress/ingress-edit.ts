// Pure edits of a cloudflared config's text: text in, text out, nothing written. The `yaml` Document API finds
// the rules and their source ranges; the edit then splices only those bytes (a new rule, a service value, a
// removed rule), because re-serialising the whole document would re-indent lists and re-space flow sequences
// the operator wrote. Every result is parsed again, validated as cloudflared would, and compared with the
// original: any difference outside the app's own rules aborts the edit instead of being written.
import { isDeepStrictEqual } from 'node:util';
import { isScalar, type Scalar, type YAMLMap } from 'yaml';
import { InvalidInputError } from '../../errors.js';
import { CloudflaredConfigError } from '../../integrations/cloudflared/cloudflared-config-error.js';
import { hostMatches, hostnameProblem, isCatchAll, ownerMarker, readIngress, type IngressDocument, type IngressRule } from '../../integrations/cloudflared/ingress-document.js';
import { aboveLeadingComments, applySplices, itemStart, scalar, type ConfigText, type Splice } from './ingress-text.js';

export interface IngressRoute {
  /** Bare hostname, lowercase, as cloudflared matches it. */
  readonly hostname: string;
  /** e.g. http://10.0.0.5:8080 */
  readonly service: string;
}

export interface IngressPlan {
  readonly text: string;
  readonly changed: boolean;
  readonly added: string[];
  readonly updated: string[];
  readonly removed: string[];
  readonly unchanged: string[];
  /** e.g. a rule of the app that an earlier wildcard rule shadows. */
  readonly warnings: string[];
}

/**
 * Gives `app` exactly one rule per route (added before the catch-all, or before the first wildcard rule that
 * would match the hostname first), updates the service of the rules it already has, and drops the app's rules
 * for hostnames it no longer declares. A hostname already routed by someone else's rule is a conflict.
 */
export function planAppRoutes(config: ConfigText, app: string, wantedRoutes: readonly IngressRoute[]): IngressPlan {
  const before = loadEditable(config);
  const wanted = new Map(wantedRoutes.map((r) => [r.hostname.toLowerCase(), r]));
  const routes = [...wanted.values()];
  for (const route of routes) {
    const problem = hostnameProblem(route.hostname);
    if (problem) throw new InvalidInputError('endpoints', problem);
  }
  const conflicts = before.rules
    .filter((r) => r.owner !== app && r.hostname && !r.path && wanted.has(r.hostname.toLowerCase()))
    .map((r) => `${r.hostname} is already routed by rule #${r.index + 1} (${r.service})${r.owner ? ` of app ${r.owner}` : ', which norn does not manage'}`);
  if (conflicts.length > 0) throw new CloudflaredConfigError('conflict', config.path, conflicts);

  const plan = { added: [] as string[], updated: [] as string[], removed: [] as string[], unchanged: [] as string[] };
  const edits: Splice[] = [];
  const kept = new Set<string>();
  for (const rule of before.rules.filter((r) => r.owner === app)) {
    const key = rule.hostname?.toLowerCase() ?? '';
    const route = wanted.get(key);
    if (!route || kept.has(key)) {
      edits.push(removal(config, before, rule));
      plan.removed.push(rule.hostname ?? `rule #${rule.index + 1}`);
    } else {
      kept.add(key);
      if (rule.service === route.service) plan.unchanged.push(route.hostname);
      else {
        edits.push(serviceUpdate(before, rule, route.service));
        plan.updated.push(route.hostname);
      }
    }
  }
  const pruned = applySplices(config.text, edits);

  const missing = routes.filter((r) => !kept.has(r.hostname.toLowerCase()));
  const middle = loadEditable({ path: config.path, text: pruned });
  const text = applySplices(pruned, insertions({ path: config.path, text: pruned }, middle, app, missing));
  plan.added.push(...missing.map((r) => r.hostname));

  const after = checkResult(config, before, text, app, routes);
  const warnings = shadowWarnings(after, app);
  if (after.doc.getIn(['originRequest', 'bastionMode']) === true) {
    warnings.push('the top-level originRequest sets bastionMode: true, so cloudflared treats every rule, norn\'s too, as a bastion');
  }
  return { text, changed: text !== config.text, ...plan, warnings };
}

/** Removes every rule `app` owns; the rest of the file stays byte for byte. */
export function planAppRemoval(config: ConfigText, app: string): IngressPlan {
  const before = loadEditable(config);
  const owned = before.rules.filter((r) => r.owner === app);
  const text = applySplices(config.text, owned.map((r) => removal(config, before, r)));
  checkResult(config, before, text, app, []);
  const removed = owned.map((r) => r.hostname ?? `rule #${r.index + 1}`);
  return { text, changed: text !== config.text, added: [], updated: [], removed, unchanged: [], warnings: [] };
}

function loadEditable(config: ConfigText): IngressDocument {
  const ingress = readIngress(config.text);
  if (ingress.problems.length > 0) throw new CloudflaredConfigError('invalid', config.path, ingress.problems);
  if (ingress.seq?.flow) {
    throw new CloudflaredConfigError('unsupported', config.path, ['norn edits a block-style ingress list ("- hostname: ..." lines), not a flow-style [ ... ] one']);
  }
  return ingress;
}

function insertions(config: ConfigText, ingress: IngressDocument, app: string, routes: readonly IngressRoute[]): Splice[] {
  const { text } = config;
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const byOffset = new Map<number, string>();
  for (const route of routes) {
    // A wildcard rule above the catch-all would take the hostname first, so the new rule goes above it.
    const target = ingress.rules.find((r) => !isCatchAll(r) && r.hostname?.startsWith('*.') && hostMatches(r.hostname, route.hostname));
    const item = ingress.seq!.items[target?.index ?? ingress.rules.length - 1];
    const { lineStart, indent } = itemStart(config, item);
    const at = aboveLeadingComments(text, lineStart, indent);
    const rule =
      `${indent}- hostname: ${scalar(route.hostname)} # ${ownerMarker(app)}${nl}` + `${indent}  service: ${scalar(route.service)}${nl}`;
    byOffset.set(at, (byOffset.get(at) ?? '') + rule);
  }
  return [...byOffset].map(([at, insert]) => ({ start: at, end: at, insert }));
}

function removal(config: ConfigText, ingress: IngressDocument, rule: IngressRule): Splice {
  const { text } = config;
  const item = ingress.seq!.items[rule.index] as YAMLMap;
  const { lineStart } = itemStart(config, item);
  let end = item.range![2];
  if (end > 0 && text[end - 1] !== '\n') {
    const nl = text.indexOf('\n', end);
    end = nl === -1 ? text.length : nl + 1;
  }
  return { start: lineStart, end, insert: '' };
}

function serviceUpdate(ingress: IngressDocument, rule: IngressRule, service: string): Splice {
  const item = ingress.seq!.items[rule.index] as YAMLMap;
  const value = item.items.find((p) => isScalar(p.key) && p.key.value === 'service')?.value as Scalar;
  return { start: value.range![0], end: value.range![1], insert: scalar(service) };
}

/** The edited text must load in cloudflared, leave everything but the app's rules as it was, and hold exactly `routes`. */
function checkResult(config: ConfigText, before: IngressDocument, text: string, app: string, routes: readonly IngressRoute[]): IngressDocument {
  const after = readIngress(text);
  const fail = (why: string) => new Error(`refusing to write ${config.path}: the edit ${why} (a bug in norn; the file is untouched)`);
  if (after.problems.length > 0) throw fail(`would not load in cloudflared: ${after.problems.join('; ')}`);
  if (!isDeepStrictEqual(others(before, app), others(after, app))) throw fail('changed something besides the rules of this app');
  const owned = after.rules.filter((r) => r.owner === app).map((r) => `${r.hostname?.toLowerCase()} ${r.service}`).sort();
  if (!isDeepStrictEqual(owned, routes.map((r) => `${r.hostname.toLowerCase()} ${r.service}`).sort())) throw fail('did not produce the wanted rules');
  return after;
}

function others(ingress: IngressDocument, app: string): unknown {
  const js = ingress.doc.toJS() as Record<string, unknown> & { ingress: unknown[] };
  return { ...js, ingress: js.ingress.filter((_, i) => ingress.rules[i]?.owner !== app) };
}

function shadowWarnings(ingress: IngressDocument, app: string): string[] {
  return ingress.rules
    .filter((rule) => rule.owner === app && rule.hostname)
    .flatMap((rule) => {
      const first = ingress.rules.find((r) => r.index < rule.index && !r.path && hostMatches(r.hostname, rule.hostname!));
      return first ? [`${rule.hostname}: rule #${first.index + 1} (${first.hostname}) matches it first, so cloudflared will not use norn's rule`] : [];
    });
}
