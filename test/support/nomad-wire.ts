// For the tests that speak raw HTTP to the Nomad simulator, holding it to the wire format of docs/nomad-api.md:
// the service job they register, a request, and a wait for the simulator's own state.
import type { NomadJob } from '../../src/integrations/nomad/nomad-types.js';

const S = 1e9;

/**
 * The job of the app `shop`: one group `web` of `count` docker tasks running `image`. With `httpService`, the
 * task listens on a dynamic port (PORT 8080 inside) registered as the service `shop-web` with an HTTP check.
 */
export function shopServiceJob(opts: { image?: string; count?: number; httpService?: boolean } = {}, extra: Partial<NomadJob> = {}): NomadJob {
  const image = opts.image ?? 'reg/shop:1';
  return {
    ID: 'shop',
    Name: 'shop',
    Type: 'service',
    Datacenters: ['dc1'],
    TaskGroups: [
      {
        Name: 'web',
        Count: opts.count ?? 1,
        RestartPolicy: { Attempts: 3, Interval: 300 * S, Delay: 15 * S, Mode: 'delay' },
        Update: { MaxParallel: 1, MinHealthyTime: 30 * S, AutoRevert: true, HealthyDeadline: null },
        ...(opts.httpService
          ? {
              Networks: [{ DynamicPorts: [{ Label: 'web-http', Value: 0, To: 8080 }] }],
              Services: [{ Name: 'shop-web', PortLabel: 'web-http', Provider: 'consul', Checks: [{ Type: 'http', Path: '/healthz', Interval: 10 * S, Timeout: 5 * S }] }],
            }
          : {}),
        Tasks: [
          {
            Name: 'web',
            Driver: 'docker',
            Config: opts.httpService ? { image, ports: ['web-http'] } : { image },
            Env: opts.httpService ? { PORT: '8080' } : {},
            Resources: { CPU: 100, MemoryMB: 128 },
          },
        ],
      },
    ],
    ...extra,
  };
}

/** A request to the Nomad API at `baseUrl`, the body (if any) as JSON. */
export function nomadCall(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Polls `check` (the simulator's state, read in-process) every 10 ms; fails after 5 s naming `what`. */
export async function waitUntil(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
