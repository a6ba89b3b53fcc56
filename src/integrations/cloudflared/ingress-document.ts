// Reads a cloudflared config file's `ingress` list and checks it the way cloudflared does when it starts
// (cloudflare/cloudflared ingress/ingress.go validateIngress): at least one rule; the last rule, and only the
// last, matches every URL (no hostname, or "*", and no path); a hostname has no port and at most one wildcard,
// as a leading "*."; every rule has a service cloudflared can parse. Two deliberate differences: a hostname must
// also be well formed (cloudflared would accept "*example.com" or "a b", which never match anything), and a
// `path` is not checked, because it is a Go RE2 regex that JavaScript's RegExp cannot judge.
//
// Ownership: a rule norn wrote carries the marker comment `# norn:<app>` on its hostname line. The `yaml`
// Document API keeps it attached to the hostname scalar, so a teardown removes exactly the app's rules.
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';

export interface IngressRule {
  /** 0-based position in the list (cloudflared's messages count from 1). */
  readonly index: number;
  readonly hostname?: string;
  readonly path?: string;
  readonly service?: string;
  /** The app named by the rule's `# norn:<app>` marker; undefined for rules norn does not manage. */
  readonly owner?: string;
}

export interface IngressDocument {
  readonly doc: Document.Parsed;
  /** The `ingress` sequence node, when there is one. */
  readonly seq?: YAMLSeq;
  readonly rules: readonly IngressRule[];
  /** Why cloudflared would refuse the file; empty when it would load it. */
  readonly problems: readonly string[];
}

const MARKER = /(?:^|\s)norn:([a-z0-9][a-z0-9-]*)(?=\s|$)/;
const HOSTNAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i;
const NAMED_SERVICES = new Set(['hello_world', 'hello-world', 'helloworld', 'socks-proxy', 'bastion']);

/** The comment norn puts on the hostname line of the rules it owns. */
export function ownerMarker(app: string): string {
  return `norn:${app}`;
}

export function readIngress(text: string): IngressDocument {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    // The first line of the message names the line and column; the code frame after it is too long for a saga.
    return { doc, rules: [], problems: doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`) };
  }
  if (!isMap(doc.contents)) return { doc, rules: [], problems: ['the file must be a YAML mapping with an ingress list'] };
  const node = doc.contents.get('ingress', true);
  if (node === undefined || (isScalar(node) && node.value === null)) {
    return { doc, rules: [], problems: ["the config file doesn't contain any ingress rules"] };
  }
  if (!isSeq(node)) return { doc, rules: [], problems: ['ingress must be a list of rules'] };

  const problems: string[] = [];
  const bastionByDefault = doc.getIn(['originRequest', 'bastionMode']) === true;
  const rules = node.items.map((item, index): IngressRule => {
    if (!isMap(item)) {
      problems.push(`rule #${index + 1} is not a mapping`);
      return { index };
    }
    const field = (key: string) => stringField(item, key, index, problems);
    const rule = { index, hostname: field('hostname'), path: field('path'), service: field('service'), owner: owner(item) };
    const bastion = bastionByDefault || item.getIn(['originRequest', 'bastionMode']) === true;
    const serviceIssue = serviceProblem(rule.service, bastion);
    if (serviceIssue) problems.push(`rule #${index + 1}: ${serviceIssue}`);
    const hostIssue = hostnameProblem(rule.hostname);
    if (hostIssue) problems.push(`rule #${index + 1}: ${hostIssue}`);
    return rule;
  });
  if (rules.length === 0) problems.push("the config file doesn't contain any ingress rules");
  rules.forEach((rule, i) => {
    const isLast = i === rules.length - 1;
    if (isLast && !isCatchAll(rule)) {
      problems.push('the last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)');
    } else if (!isLast && isCatchAll(rule)) {
      problems.push(`rule #${i + 1} matches every hostname, so the rules after it would never be used`);
    }
  });
  return { doc, seq: node, rules, problems };
}

export function isCatchAll(rule: Pick<IngressRule, 'hostname' | 'path'>): boolean {
  return (!rule.hostname || rule.hostname === '*') && !rule.path;
}

/** cloudflared's host matching: exact (case-insensitive), or a "*." rule whose suffix ends the host. */
export function hostMatches(ruleHost: string | undefined, host: string): boolean {
  if (!ruleHost) return false;
  const rule = ruleHost.toLowerCase();
  const target = host.toLowerCase();
  if (rule === target || rule === '*') return true;
  return rule.startsWith('*.') && target.endsWith(rule.slice(2));
}

export function hostnameProblem(hostname: string | undefined): string | undefined {
  if (hostname === undefined || hostname === '' || hostname === '*') return undefined;
  if (hostname.includes(':') || hostname.includes('/')) return `hostname "${hostname}" must be a bare hostname, without scheme, port or path`;
  if (hostname.lastIndexOf('*') > 0 || (hostname.startsWith('*') && !hostname.startsWith('*.'))) {
    return `hostname "${hostname}": a wildcard must be a leading "*." for subdomains, e.g. "*.example.com"`;
  }
  if (hostname.length > 253 || !HOSTNAME.test(hostname)) return `hostname "${hostname}" is not a well-formed hostname`;
  return undefined;
}

function serviceProblem(service: string | undefined, bastion: boolean): string | undefined {
  if (bastion) return undefined;
  if (!service) return 'has no service';
  if (service.startsWith('unix:') || service.startsWith('unix+tls:') || NAMED_SERVICES.has(service)) return undefined;
  if (service.startsWith('http_status:')) {
    return /^http_status:[+-]?\d+$/.test(service) ? undefined : `invalid HTTP status in "${service}"`;
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/is.exec(service);
  const host = url?.[1]?.replace(/^.*@/, '').replace(/:\d*$/, '');
  if (!url || !host || host === '[]') return `${service} is an invalid address, please make sure it has a scheme and a hostname`;
  if (url[2]?.startsWith('/')) return `${service} is an invalid address: ingress rules cannot proxy to a different path`;
  return undefined;
}

function stringField(item: YAMLMap, key: string, index: number, problems: string[]): string | undefined {
  const node = item.get(key, true);
  if (node === undefined || node === null) return undefined;
  if (!isScalar(node) || typeof node.value === 'object') {
    if (isScalar(node) && node.value === null) return undefined;
    problems.push(`rule #${index + 1}: ${key} must be a string`);
    return undefined;
  }
  return String(node.value);
}

function owner(item: YAMLMap): string | undefined {
  for (const pair of item.items) {
    for (const node of [pair.key, pair.value]) {
      const comment = isScalar(node) ? node.comment : undefined;
      const match = comment ? MARKER.exec(comment) : null;
      if (match) return match[1];
    }
  }
  return undefined;
}
