// The nine steps of a deploy, in their published order, built from the clients the composition root made, and
// each step's time limit. Preflight runs reuse the same clients with fewer steps.
import type { Logger } from 'pino';
import type { ResolveServiceAddress } from './ingress/resolve-service-address.js';
import type { Config } from '../config/load-config.js';
import type { CloudflaredIngress } from './ingress/cloudflared-ingress.js';
import type { RollbackOrder } from './rollback-order.js';
import type { DockerEngine } from '../integrations/docker/docker-engine.js';
import type { GitClient } from '../integrations/git/git-client.js';
import type { RepoCache } from '../integrations/git/repo-cache.js';
import type { PostgresAdmin } from '../integrations/postgres/postgres-admin.js';
import type { SnapshotStore } from '../snapshots/snapshot-store.js';
import type { Step, StepName } from './step.js';
import { buildStep } from './steps/build.js';
import { BuildReuse } from './steps/build-reuse.js';
import { cleanupStep } from './steps/cleanup.js';
import { cloneStep } from './steps/clone.js';
import { forgeStep } from './steps/forge.js';
import { migrateStep } from './steps/migrate.js';
import { snapshotStep } from './steps/snapshot.js';
import { testStep } from './steps/test.js';
import { failingAfterRestore } from './steps/after-restore.js';
import { rollbackRestoreStep } from './steps/rollback-restore.js';
import { rollbackSafetySnapshotStep } from './steps/rollback-safety-snapshot.js';
import type { RuntimeSource } from './runtime.js';
import { forgeThenRetire, runtimeHealthyStep, runtimePlanStep, runtimeSubmitStep } from './steps/runtime-steps.js';

export interface PipelineClients {
  readonly git: GitClient;
  /** Absent when the repository cache is turned off: each clone then fetches straight into its work dir. */
  readonly repoCache?: RepoCache;
  readonly docker: DockerEngine;
  readonly postgres: Pick<PostgresAdmin, 'dump' | 'restore' | 'clientConfig'>;
  readonly snapshots: SnapshotStore;
  /** Where submit, healthy and the forge target go: Nomad or the Docker engine. */
  readonly runtime: RuntimeSource;
  readonly ingress: CloudflaredIngress;
  readonly log: Logger;
}

export interface DeployPipeline {
  readonly steps: readonly Step[];
  readonly cleanup: Step;
  timeoutMs(step: StepName): number;
}

export function deployPipeline(config: Config, clients: PipelineClients): DeployPipeline {
  const workRoot = workRootOf(config);
  const clock = () => new Date();
  const steps: Step[] = [
    cloneStep({ git: clients.git, workRoot, cache: clients.repoCache }),
    buildStep(
      { registryUrl: config.registryUrl, registryAuth: config.registryAuth, buildNetwork: config.buildNetwork, builder: config.builder },
      { docker: clients.docker, git: clients.git, reuse: new BuildReuse({ registryAuth: config.registryAuth }, { docker: clients.docker }) },
    ),
    testStep({ testTimeoutMs: config.testTimeoutMs, testNetwork: config.testNetwork }, { docker: clients.docker }),
    snapshotStep({ snapshotsDir: config.snapshotsDir }, { postgres: clients.postgres, snapshots: clients.snapshots, clock }),
    migrateStep({
      postgres: clients.postgres,
      docker: clients.docker,
      // The command runs inside the step's own limit, with room left to remove its container.
      command: { timeoutMs: Math.max(1000, config.stepTimeoutMs - 30_000), networkMode: config.migrateNetwork },
    }),
    ...goLiveSteps(clients),
  ];
  return {
    steps,
    cleanup: cleanupStep({ workRoot, docker: clients.docker, cache: clients.repoCache }),
    timeoutMs(step) {
      if (step === 'clone') return config.cloneTimeoutMs;
      // The test command has its own limit; the step's leaves room to start and remove the container.
      if (step === 'test') return config.testTimeoutMs + 60_000;
      // The health gate may wait up to one deadline for canaries (evaluateAfter, capped), then follows the rollout
      // and possibly a rollback deployment, each within its own deadline.
      if (step === 'healthy') return 3 * config.nomad.healthyDeadlineMs + 60_000;
      if (step === 'forge') return config.cloudflared.reloadTimeoutMs + 60_000;
      return config.stepTimeoutMs;
    },
  };
}

/**
 * A pull request's preflight: clone the head commit, build without pushing, test, translate and plan. No snapshot,
 * no migrate, no registration, no ingress: nothing a reviewer's code could change outside its own containers.
 */
export function preflightPipeline(config: Config, clients: PipelineClients, deploy: DeployPipeline): DeployPipeline {
  const workRoot = workRootOf(config);
  return {
    steps: [
      cloneStep({ git: clients.git, workRoot, cache: clients.repoCache }),
      buildStep({ buildNetwork: config.buildNetwork, builder: config.builder }, { docker: clients.docker, git: clients.git, reuse: new BuildReuse({}, { docker: clients.docker }) }),
      testStep({ testTimeoutMs: config.testTimeoutMs, testNetwork: config.testNetwork }, { docker: clients.docker }),
      runtimePlanStep(clients.runtime),
    ],
    cleanup: deploy.cleanup,
    timeoutMs: deploy.timeoutMs,
  };
}

/**
 * A rollback (`norn rollback`): the image an earlier deploy ran, submitted again without clone, build or test (there
 * is nothing to build, and the image passed its tests when it was deployed). `snapshot` and `migrate` run only with
 * --restore-snapshot, as the safety dump and the restore under the migrations' lock (skipped with the reason
 * otherwise, so the saga says what happened to the database); then `submit`, `healthy`, `forge` and `cleanup`
 * exactly as a deploy runs them, on the app's current spec.
 */
export function rollbackPipeline(config: Config, clients: PipelineClients, deploy: DeployPipeline, order: RollbackOrder): DeployPipeline {
  const clock = () => new Date();
  const [submit, healthy, forge] = goLiveSteps(clients);
  const withImage: Step = { name: 'submit', run: (ctx) => submit.run({ ...ctx, outputs: { ...ctx.outputs, imageTag: order.image } }) };
  return {
    steps: [
      rollbackSafetySnapshotStep(order, { snapshotsDir: config.snapshotsDir, postgres: clients.postgres, snapshots: clients.snapshots, clock }),
      rollbackRestoreStep(order, { postgres: clients.postgres, snapshots: clients.snapshots, clock }),
      failingAfterRestore(withImage),
      failingAfterRestore(healthy),
      failingAfterRestore(forge),
    ],
    cleanup: deploy.cleanup,
    timeoutMs: deploy.timeoutMs,
  };
}

/** submit, healthy and forge (then retire): what puts an image live, for a deploy and a rollback alike. */
function goLiveSteps(clients: PipelineClients): [Step, Step, Step] {
  const resolveServiceAddress: ResolveServiceAddress = async (spec, signal) => (await clients.runtime.require('forge')).serviceAddress(spec, signal);
  return [
    runtimeSubmitStep(clients.runtime),
    runtimeHealthyStep(clients.runtime),
    forgeThenRetire(forgeStep({ ingress: clients.ingress, resolveServiceAddress }), clients.runtime),
  ];
}

/**
 * The steps a pipeline runs, in order, cleanup last: what the API tells the CLI and the dashboard to draw for a run,
 * read from the very steps the runner will run, so no client keeps its own list.
 */
export function stepNamesOf(pipeline: Pick<DeployPipeline, 'steps' | 'cleanup'>): StepName[] {
  return [...pipeline.steps.map((s) => s.name), pipeline.cleanup.name];
}

export function workRootOf(config: Pick<Config, 'dataDir'>): string {
  return `${config.dataDir}/work`;
}
