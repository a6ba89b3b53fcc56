// Which address cloudflared gets for an app: the real NomadClient over a stub fetch answering with Nomad's wire
// shapes (NOMAD_API.md, sections 1-2), and a stub of Consul's health API.
import { expect } from 'chai';
import type { AppSpec } from '../../../../src/apps/infraspec-schema.js';
import { ConsulClient } from '../../../../src/integrations/consul/consul-client.js';
import { createServiceAddressResolver, routedProcess } from '../../../../src/pipeline/ingress/resolve-service-address.js';
import { StepFailedError } from '../../../../src/errors.js';
import { NomadClient } from '../../../../src/integrations/nomad/nomad-client.js';
import { memoryLogger } from '../../../support/memory-logger.js';

const spec = (processes: Record<string, { port?: number; schedule?: string }>) =>
  ({ name: 'shop', processes, endpoints: [{ url: 'https://shop.example.com' }] }) as unknown as AppSpec;

function stub(id: string, group: string, extra: Record<string, unknown> = {}) {
  return {
    ID: id, EvalID: 'e1', Name: `shop.${group}[0]`, Namespace: 'default', NodeID: 'n1', NodeName: 'node1', JobID: 'shop',
    JobType: 'service', JobVersion: 3, TaskGroup: group, DesiredStatus: 'run', DesiredDescription: '',
    ClientStatus: 'running', ClientDescription: 'Tasks are running', TaskStates: null,
    DeploymentStatus: { Healthy: true, Timestamp: '2026-05-01T10:00:40Z', Canary: false, ModifyIndex: 57 },
    FollowupEvalID: '', NextAllocation: '', CreateIndex: 50, ModifyIndex: 57, CreateTime: 1, ModifyTime: 2,
    ...extra,
  };
}

/** A fetch that answers from a table of paths, recording what was asked. */
function stubFetch(routes: Record<string, unknown>) {
  const asked: string[] = [];
  const fetchFn = (async (input: string | URL) => {
    const url = new URL(String(input));
    asked.push(url.pathname + url.search);
    const body = routes[url.pathname];
    if (body === undefined) return new Response('', { status: 404 });
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'X-Nomad-Index': '57' } });
  }) as typeof fetch;
  return { fetchFn, asked };
}

const signal = new AbortController().signal;

describe('routedProcess', () => {
  it('routes web when it has a port, else the first process with a port by name', () => {
    expect(routedProcess(spec({ worker: { port: 9000 }, web: { port: 8080 } }))).to.equal('web');
    expect(routedProcess(spec({ web: {}, zeta: { port: 1 }, api: { port: 2 } }))).to.equal('api');
    expect(routedProcess(spec({ nightly: { schedule: '0 3 * * *' } }))).to.equal(undefined);
  });
});

describe('resolveServiceAddress from Nomad', () => {
  const resolverFor = (routes: Record<string, unknown>) => {
    const { log } = memoryLogger();
    const { fetchFn, asked } = stubFetch(routes);
    const nomad = new NomadClient({ address: 'http://nomad.test:4646' }, { fetch: fetchFn, log });
    return { resolve: createServiceAddressResolver({ nomad, log }), asked };
  };

  it("takes the healthy running allocation of the routed group and its `{process}-http` host port", async () => {
    const { resolve, asked } = resolverFor({
      '/v1/job/shop/allocations': [
        stub('old', 'web', { ClientStatus: 'complete', DesiredStatus: 'stop' }),
        stub('pending', 'web', { DeploymentStatus: null, JobVersion: 4, CreateIndex: 60 }),
        stub('worker-1', 'worker'),
        stub('good', 'web'),
      ],
      '/v1/allocation/good': {
        ...stub('good', 'web'),
        DeploymentID: 'd1',
        Job: null,
        AllocatedResources: { Shared: { Ports: [{ Label: 'web-metrics', Value: 25000, To: 9100, HostIP: '10.0.0.5' }, { Label: 'web-http', Value: 8080, To: 8080, HostIP: '10.0.0.5' }] } },
      },
    });
    const address = await resolve(spec({ web: { port: 8080 }, worker: { port: 9000 } }), signal);
    expect(address).to.deep.equal({ process: 'web', address: '10.0.0.5', port: 8080, source: 'nomad', instance: 'good', healthyInstances: 1 });
    expect(asked[0]).to.equal('/v1/job/shop/allocations?all=false');
  });

  it('fails the step, naming the group, when nothing of it runs', async () => {
    const { resolve } = resolverFor({ '/v1/job/shop/allocations': [stub('gone', 'web', { ClientStatus: 'failed' })] });
    const err = await resolve(spec({ web: { port: 8080 } }), signal).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as Error).message).to.equal('no running allocation of shop (task group web) in Nomad');
  });

  it('fails when the allocation has no address for the port', async () => {
    const { resolve } = resolverFor({
      '/v1/job/shop/allocations': [stub('a1', 'web')],
      '/v1/allocation/a1': { ...stub('a1', 'web'), DeploymentID: 'd1', Job: null, AllocatedResources: { Shared: { Ports: [] } } },
    });
    const err = await resolve(spec({ web: { port: 8080 } }), signal).catch((e: unknown) => e);
    expect((err as Error).message).to.contain('has no host address for port web-http');
  });
});

describe('resolveServiceAddress from Consul', () => {
  const entry = (id: string, address: string, port: number, statuses: string[]) => ({
    Node: { Node: `node-${id}`, Address: '192.168.1.10' },
    Service: { ID: id, Service: 'shop-web', Address: address, Port: port },
    Checks: statuses.map((Status) => ({ Status })),
  });
  const resolverFor = (answer: unknown, config = { consulAddress: '127.0.0.1:8500', consulToken: 'consul-secret' }) => {
    const { log, lines } = memoryLogger();
    const { fetchFn, asked } = stubFetch({ '/v1/health/service/shop-web': answer });
    let token: string | null = null;
    const recording = (async (input: string | URL, init?: RequestInit) => {
      token = new Headers(init?.headers).get('x-consul-token');
      return fetchFn(input, init);
    }) as typeof fetch;
    const nomad = { jobAllocations: () => Promise.reject(new Error('Nomad must not be asked')), readAllocation: () => Promise.reject(new Error('no')) };
    const consul = new ConsulClient({ address: config.consulAddress, token: config.consulToken }, { fetch: recording });
    return { resolve: createServiceAddressResolver({ nomad, consul, log }), asked, lines, token: () => token };
  };

  it('asks for passing instances and routes to the first one whose checks all pass', async () => {
    const { resolve, asked, lines, token } = resolverFor([entry('warn-1', '10.0.0.4', 8080, ['passing', 'warning']), entry('ok-1', '', 8081, ['passing', 'passing'])]);
    const address = await resolve(spec({ web: { port: 8080 } }), signal);
    expect(address).to.deep.equal({ process: 'web', address: '192.168.1.10', port: 8081, source: 'consul', instance: 'ok-1', healthyInstances: 1 });
    expect(asked).to.deep.equal(['/v1/health/service/shop-web?passing=true']);
    expect(token()).to.equal('consul-secret');
    expect(lines.join('')).not.to.contain('consul-secret');
  });

  it('fails the step when no instance passes', async () => {
    const { resolve } = resolverFor([entry('crit', '10.0.0.4', 8080, ['critical'])]);
    const err = await resolve(spec({ web: { port: 8080 } }), signal).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as Error).message).to.equal('no passing instance of Consul service shop-web');
  });
});
