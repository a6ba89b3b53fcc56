// An app's `endpoints` as cloudflared ingress routes: the hostname of each URL (scheme, port and path dropped,
// lowercased, duplicates merged: https://a and http://a/x are one rule) to the service URL of its instance.
import type { AppSpec } from '../../apps/infraspec-schema.js';
import type { IngressRoute } from './ingress-edit.js';
import type { ServiceAddress } from './resolve-service-address.js';

export function endpointHostnames(endpoints: NonNullable<AppSpec['endpoints']>): string[] {
  const hostnames = endpoints.map(({ url }) => {
    const host = url.includes('://') ? new URL(url).hostname : url.split('/')[0]!;
    return host.toLowerCase().replace(/\.$/, '');
  });
  return [...new Set(hostnames)];
}

/** http://<address>:<port>, with an IPv6 address in brackets. */
export function serviceUrl(target: Pick<ServiceAddress, 'address' | 'port'>): string {
  const host = target.address.includes(':') && !target.address.startsWith('[') ? `[${target.address}]` : target.address;
  return `http://${host}:${target.port}`;
}

export function ingressRoutes(spec: AppSpec, target: ServiceAddress): IngressRoute[] {
  const service = serviceUrl(target);
  return endpointHostnames(spec.endpoints ?? []).map((hostname) => ({ hostname, service }));
}
