// Where cloudflared should send an app's public traffic: the node address and host port of a healthy instance of
// the app's routed process. From Consul's health API when CONSUL_HTTP_ADDR is configured (passing instances
// first, as Consul's own DNS interface would answer), otherwise from the Nomad allocation itself
// (`AllocatedResources.Shared.Ports[]`, label `{process}-http`, the static port the translator reserves for apps
// with endpoints). A rule has one origin, so with several instances the first healthy one is routed.
import type { Logger } from 'pino';
import type { AppSpec } from '../../apps/infraspec-schema.js';
import { StepFailedError } from '../../errors.js';
import type { ConsulClient } from '../../integrations/consul/consul-client.js';
import type { NomadAllocation, NomadAllocationStub } from '../../integrations/nomad/nomad-types.js';

export interface ServiceAddress {
  readonly process: string;
  readonly address: string;
  readonly port: number;
  readonly source: 'nomad' | 'consul' | 'docker';
  /** The Nomad allocation id or the Consul service instance id routed to. */
  readonly instance: string;
  /** How many healthy instances there were to choose from. */
  readonly healthyInstances: number;
}

export type ResolveServiceAddress = (spec: AppSpec, signal: AbortSignal) => Promise<ServiceAddress>;

/** The part of NomadClient this needs (NomadClient satisfies it as is). */
export interface AllocationReader {
  jobAllocations(jobId: string, q?: { signal?: AbortSignal }): Promise<{ value: NomadAllocationStub[] }>;
  readAllocation(allocId: string, q?: { signal?: AbortSignal }): Promise<{ value: NomadAllocation }>;
}

/** The process endpoints route to: `web` when it listens on a port, else the first such process by name. */
export function routedProcess(spec: AppSpec): string | undefined {
  const listening = Object.keys(spec.processes)
    .filter((name) => spec.processes[name]?.port !== undefined)
    .sort();
  return listening.includes('web') ? 'web' : listening[0];
}

/** `consul`: the client built when CONSUL_HTTP_ADDR is set; without it, addresses come from Nomad. */
export function createServiceAddressResolver(deps: {
  nomad: AllocationReader;
  consul?: Pick<ConsulClient, 'passingInstances'>;
  log: Logger;
}): ResolveServiceAddress {
  return async (spec, signal) => {
    const processName = routedProcess(spec);
    if (!processName) throw new StepFailedError('forge', `${spec.name} has endpoints but no process listens on a port`);
    const found = deps.consul
      ? await fromConsul(deps.consul, `${spec.name}-${processName}`, signal)
      : await fromNomad(deps.nomad, spec.name, processName, signal);
    const address: ServiceAddress = { process: processName, ...found };
    deps.log.debug({ app: spec.name, ...address }, 'service address resolved');
    return address;
  };
}

async function fromNomad(nomad: AllocationReader, app: string, process: string, signal: AbortSignal) {
  const { value: stubs } = await nomad.jobAllocations(app, { signal });
  const running = stubs
    .filter((a) => a.TaskGroup === process && a.DesiredStatus === 'run' && a.ClientStatus === 'running')
    .sort((a, b) => healthRank(a) - healthRank(b) || b.JobVersion - a.JobVersion || b.CreateIndex - a.CreateIndex);
  const chosen = running[0];
  if (!chosen) throw new StepFailedError('forge', `no running allocation of ${app} (task group ${process}) in Nomad`, { app, process });
  const { value: alloc } = await nomad.readAllocation(chosen.ID, { signal });
  const label = `${process}-http`;
  const port = alloc.AllocatedResources?.Shared.Ports?.find((p) => p.Label === label);
  if (!port?.HostIP || !port.Value) {
    throw new StepFailedError('forge', `allocation ${chosen.ID} of ${app} has no host address for port ${label}`, { app, process, allocId: chosen.ID });
  }
  const healthy = running.filter((a) => a.DeploymentStatus?.Healthy === true).length;
  return { address: port.HostIP, port: port.Value, source: 'nomad' as const, instance: chosen.ID, healthyInstances: healthy };
}

/** Healthy first, then those whose health is not decided yet, unhealthy last. */
function healthRank(a: NomadAllocationStub): number {
  const healthy = a.DeploymentStatus?.Healthy;
  return healthy === true ? 0 : healthy === false ? 2 : 1;
}

async function fromConsul(consul: Pick<ConsulClient, 'passingInstances'>, service: string, signal: AbortSignal) {
  const { passing, listed } = await consul.passingInstances(service, signal);
  const chosen = passing[0];
  const address = chosen?.Service?.Address || chosen?.Node?.Address;
  if (!chosen || !address || !chosen.Service?.Port) {
    throw new StepFailedError('forge', `no passing instance of Consul service ${service}`, { service, instances: listed });
  }
  const instance = chosen.Service.ID ?? `${chosen.Node?.Node ?? address}:${chosen.Service.Port}`;
  return { address, port: chosen.Service.Port, source: 'consul' as const, instance, healthyInstances: passing.length };
}
