// Builds the service's runtime source from configuration: the Nomad and Docker runtimes over the clients the
// composition root made, chosen by select-runtime.ts.
import net from 'node:net';
import type { Logger } from 'pino';
import type { AppSpec } from '../apps/infraspec-schema.js';
import type { Config } from '../config/load-config.js';
import type { DockerContainers } from '../integrations/docker/docker-containers.js';
import type { ConsulClient } from '../integrations/consul/consul-client.js';
import type { NomadClient } from '../integrations/nomad/nomad-client.js';
import type { LoadSecrets } from '../apps/app-secrets.js';
import type { SubmitConfig } from './nomad/submit.js';
import { DockerCanaries } from './docker/docker-canaries.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { nomadRuntime } from './nomad/nomad-runtime.js';
import { SelectedRuntime } from './select-runtime.js';

export interface RuntimeWiring {
  readonly nomad: NomadClient;
  readonly consul?: ConsulClient;
  readonly containers: DockerContainers;
  readonly loadSecrets: LoadSecrets;
  readonly submitConfig: SubmitConfig;
  specOf(app: string): AppSpec | undefined;
  lastGoodImage(app: string): Promise<string | undefined>;
  sagaActions(sagaId: string): Promise<string[]>;
  routedServices(app: string): Promise<string[]>;
  pausedSchedules?(app: string): Promise<ReadonlySet<string>>;
  readonly log: Logger;
}

export function wireRuntime(config: Config, w: RuntimeWiring): SelectedRuntime {
  return new SelectedRuntime(
    { runtime: config.runtime, nomadAddressIsSet: config.nomad.isAddressSet, dockerHost: config.dockerHost },
    {
      engineAnswers: () => w.containers.ping(),
      build: (name) =>
        name === 'nomad'
          ? nomadRuntime(
              {
                submit: w.submitConfig,
                healthy: { deadlineMs: config.nomad.healthyDeadlineMs, blockingWaitMs: config.nomad.blockingWaitMs, retryDelayMs: 2000, maxRetries: 5 },
                // The Docker gate's minimum healthy time: one setting for how long a restarted instance must hold.
                restartHealthyMs: config.docker.minHealthyMs,
              },
              { nomad: w.nomad, consul: w.consul, loadSecrets: w.loadSecrets, lastGoodImage: w.lastGoodImage, pausedSchedules: w.pausedSchedules, log: w.log },
            )
          : new DockerRuntime(
              { network: config.docker.network, minHealthyMs: config.docker.minHealthyMs, healthyDeadlineMs: config.nomad.healthyDeadlineMs, appPostgresUrl: config.appPostgresUrl },
              { containers: w.containers, loadSecrets: w.loadSecrets, specOf: w.specOf, sagaActions: w.sagaActions, routedServices: w.routedServices, freePort, canaries: new DockerCanaries(), log: w.log },
            ),
    },
  );
}

/** How jobs are translated for registration; `norn plan` uses the same, so a plan never drifts from a deploy. */
export function submitConfigOf(config: Config): SubmitConfig {
  return { appPostgresUrl: config.appPostgresUrl, datacenters: [...config.nomad.datacenters], namespace: config.nomad.namespace };
}

/** A TCP port free on this host right now, for an instance on host networking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
