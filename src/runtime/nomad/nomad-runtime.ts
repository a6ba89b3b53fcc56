// The Nomad runtime: today's Nomad steps behind the runtime interface. Submit registers the jobs, healthy follows
// the deployment (Nomad replaces, reverts and drains allocations itself, so retire and discard have nothing to
// do), the plan asks Nomad's dry run, and the forge target comes from Consul or the allocation.
import type { Logger } from 'pino';
import { createServiceAddressResolver } from '../../pipeline/ingress/resolve-service-address.js';
import { UpstreamError } from '../../errors.js';
import type { ConsulClient } from '../../integrations/consul/consul-client.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadAllocationStub } from '../../integrations/nomad/nomad-types.js';
import { healthyStep, type HealthyConfig } from './healthy.js';
import { preflightSubmitStep } from './preflight-submit.js';
import type { LoadSecrets } from '../../apps/app-secrets.js';
import { submitJobs, submitStep, type SubmitConfig } from './submit.js';
import type { Runtime, RuntimeInstance } from '../../pipeline/runtime.js';
import { nomadCanary } from './nomad-canary.js';
import { nomadInstanceLogs, nomadLogs, nomadRestart, nomadScale, type NomadOperationsConfig } from './nomad-operations.js';

export interface NomadRuntimeConfig {
  readonly submit: SubmitConfig;
  readonly healthy: HealthyConfig;
  /** `norn restart`: how long a restarted allocation's tasks must keep running before the next is restarted. */
  readonly restartHealthyMs: number;
}

export interface NomadRuntimeDeps {
  readonly nomad: NomadClient;
  readonly loadSecrets: LoadSecrets;
  /** Built when CONSUL_HTTP_ADDR is set: the forge target then comes from Consul's health API. */
  readonly consul?: ConsulClient;
  lastGoodImage(app: string): Promise<string | undefined>;
  /** Scheduled processes an operator paused: registered disabled by every submit. */
  pausedSchedules?(app: string): Promise<ReadonlySet<string>>;
  readonly log: Logger;
}

export function nomadRuntime(config: NomadRuntimeConfig, deps: NomadRuntimeDeps): Runtime {
  const submitDeps = { nomad: deps.nomad, loadSecrets: deps.loadSecrets, pausedSchedules: deps.pausedSchedules };
  const submit = submitStep(config.submit, submitDeps);
  const healthy = healthyStep(config.healthy, {
    nomad: deps.nomad,
    lastGoodImage: deps.lastGoodImage,
    resubmit: (ctx, image) => submitJobs(config.submit, submitDeps, ctx, image, 'rollback'),
  });
  const preflightSubmit = preflightSubmitStep(config.submit, submitDeps);
  const operations: NomadOperationsConfig = { watch: config.healthy, deadlineMs: config.healthy.deadlineMs, restartHealthyMs: config.restartHealthyMs };
  return {
    name: 'nomad',
    submit: (ctx) => submit.run(ctx),
    healthy: (ctx) => healthy.run(ctx),
    retire: async () => undefined,
    discard: async () => undefined,
    plan: (ctx) => preflightSubmit.run(ctx),
    serviceAddress: createServiceAddressResolver({ nomad: deps.nomad, consul: deps.consul, log: deps.log }),
    instances: (app, signal) => nomadInstances(deps.nomad, app, signal),
    // Teardown has always left Nomad jobs to Nomad's own tools.
    stop: async (app) => ({ stopped: 0, note: teardownNote(app) }),
    previewStop: async (app) => ({ stops: 0, note: teardownNote(app) }),
    logs: (app, instanceId, opts) => nomadInstanceLogs(deps.nomad, app, instanceId, opts),
    streamLogs: (app, request) => nomadLogs(deps.nomad, app, request),
    scale: (request) => nomadScale(operations, deps.nomad, request),
    restart: (request) => nomadRestart(operations, deps.nomad, request),
    // Nomad keeps running what was registered and reverts failed deployments itself.
    recoverInterrupted: async () => undefined,
    canary: nomadCanary(deps.nomad),
  };
}

function teardownNote(app: string): string {
  return `Nomad jobs are not stopped by teardown: run \`nomad job stop ${app}\``;
}

async function nomadInstances(nomad: NomadClient, app: string, signal?: AbortSignal): Promise<RuntimeInstance[]> {
  let stubs: NomadAllocationStub[];
  try {
    stubs = (await nomad.jobAllocations(app, { signal })).value;
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404) return [];
    throw err;
  }
  const current = stubs.filter((a) => a.DesiredStatus === 'run');
  return Promise.all(
    current.map(async (stub): Promise<RuntimeInstance> => {
      const { value: alloc } = await nomad.readAllocation(stub.ID, { signal });
      const port = alloc.AllocatedResources?.Shared.Ports?.find((p) => p.Label === `${stub.TaskGroup}-http`);
      const task = alloc.Job?.TaskGroups.find((g) => g.Name === stub.TaskGroup)?.Tasks[0];
      const image = typeof task?.Config.image === 'string' ? task.Config.image : null;
      return {
        process: stub.TaskGroup,
        id: stub.ID,
        address: port?.HostIP && port.Value ? `${port.HostIP}:${port.Value}` : null,
        image,
        commitSha: null,
        state: stub.ClientStatus,
        healthy: stub.DeploymentStatus?.Healthy ?? null,
      };
    }),
  );
}
