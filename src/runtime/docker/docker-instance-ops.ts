// `norn scale` and `norn restart` on the Docker runtime. Scale up starts copies of the process's newest container
// (same image, command, env and labels as the deploy created it, with its own name and port) and holds them to
// the deploy's health gate; a copy that fails is removed with the others started, and the error names it. Scale
// down drains and removes containers that are not running first, then the newest, never the one the ingress
// routes to while another could go. Restart restarts containers in place (same id, env and port, so the ingress
// keeps pointing at them), one at a time, each gated before the next; the first that fails stops the roll.
import { type AppSpec } from '../../apps/infraspec-schema.js';
import { planApp, type PlannedProcess } from '../../app-plan/plan-app.js';
import { errorMessage, StepFailedError } from '../../errors.js';
import type { ContainerSummary, DockerContainers } from '../../integrations/docker/docker-containers.js';
import { InstanceFailedError, type OperationProgress, type RestartOutcome, type ScaleOutcome } from '../../pipeline/runtime-operations.js';
import { containerName, type DockerNetwork, LABEL } from './container-options.js';
import { gateInstance, type GateInstance } from './health-gate.js';

export interface InstanceOpsConfig {
  readonly network: DockerNetwork;
  readonly minHealthyMs: number;
  readonly healthyDeadlineMs: number;
}

export interface InstanceOpsDeps {
  readonly containers: Pick<DockerContainers, 'list' | 'createOptionsOf' | 'run' | 'stopAndRemove' | 'restart' | 'state' | 'logs'>;
  /** The `service` URLs of the app's ingress rules: a container they point at is removed last. */
  routedServices(app: string): Promise<string[]>;
  freePort(): Promise<number>;
}

interface OpRequest {
  readonly app: string;
  readonly spec: AppSpec;
  readonly signal: AbortSignal;
  readonly report: OperationProgress;
}

export async function scaleContainers(config: InstanceOpsConfig, deps: InstanceOpsDeps, req: OpRequest & { process: string; count: number }): Promise<ScaleOutcome> {
  const current = (await serviceContainers(deps, req.app)).filter((c) => c.labels[LABEL.process] === req.process).sort((a, b) => b.created - a.created);
  const from = current.length;
  if (req.count === from) {
    await req.report(`${req.process} already runs ${from} instance(s)`);
    return { from, to: from };
  }
  if (req.count < from) {
    const routed = new Set(await deps.routedServices(req.app).catch(() => [] as string[]));
    const isRouted = (c: ContainerSummary) => routed.has(`http://${addressOf(c) ?? ''}`);
    // Stopped or crashing ones first, then the newest, the routed one last: the ingress keeps its target while
    // any other instance can go instead.
    const down = current.filter((c) => c.state !== 'running');
    const up = current.filter((c) => c.state === 'running');
    const order = [...down, ...up.filter((c) => !isRouted(c)), ...up.filter(isRouted)];
    const going = order.slice(0, from - req.count);
    await req.report(`draining ${going.map((c) => c.name).join(', ')}`);
    await Promise.all(going.map((c) => deps.containers.stopAndRemove(c.id)));
    return { from, to: req.count };
  }
  const template = current[0];
  if (!template) throw new StepFailedError('scale', `${req.app} runs no ${req.process} instance to copy: deploy it first`);
  const proc = plannedProcess(req.spec, req.process, template.image);
  const base = await deps.containers.createOptionsOf(template.id);
  const names = new Set((await deps.containers.list({ [LABEL.app]: req.app })).map((c) => c.name));
  const started: (GateInstance & { name: string })[] = [];
  let passed = false;
  try {
    for (let index = 0; started.length < req.count - from; index++) {
      req.signal.throwIfAborted();
      const name = containerName(req.app, req.process, { sagaId: template.labels[LABEL.saga] ?? 'scaled', index });
      if (names.has(name)) continue;
      const hostPort = config.network === 'host' && proc.port !== undefined ? await deps.freePort() : undefined;
      const labels = { ...base.Labels, ...(hostPort !== undefined ? { [LABEL.hostPort]: String(hostPort) } : {}) };
      const env = hostPort !== undefined ? [...(base.Env ?? []).filter((e) => !e.startsWith('PORT=')), `PORT=${hostPort}`] : base.Env;
      const id = await deps.containers.run({ ...base, name, Labels: labels, Env: env });
      const address = hostPort !== undefined ? `127.0.0.1:${hostPort}` : await publishedAddress(deps, req.app, id);
      started.push({ id, name, process: req.process, ...(address ? { address } : {}) });
      await req.report(`started ${name}${address ? ` at ${address}` : ''}`, { instance: id.slice(0, 12) });
    }
    const deadline = Date.now() + config.healthyDeadlineMs;
    const outcomes = await Promise.all(started.map(async (inst) => ({ inst, outcome: await gate(config, deps, inst, proc, deadline, req.signal, 0) })));
    const failed = outcomes.find((o) => !o.outcome.ok);
    if (failed) throw await instanceFailure(deps, failed.inst, failed.outcome.ok ? '' : failed.outcome.why);
    await req.report(`${started.length} new instance(s) healthy`);
    passed = true;
  } finally {
    if (!passed && started.length > 0) {
      await Promise.all(started.map((s) => deps.containers.stopAndRemove(s.id).catch(() => undefined)));
      await req.report(`removed the ${started.length} new container(s); the ${from} running before were not touched`);
    }
  }
  return { from, to: req.count };
}

export async function restartContainers(config: InstanceOpsConfig, deps: InstanceOpsDeps, req: OpRequest & { process?: string }): Promise<RestartOutcome> {
  const all = (await serviceContainers(deps, req.app))
    .filter((c) => req.process === undefined || c.labels[LABEL.process] === req.process)
    .sort((a, b) => a.labels[LABEL.process]!.localeCompare(b.labels[LABEL.process]!) || a.created - b.created);
  if (all.length === 0) throw new StepFailedError('restart', `${req.app} runs no ${req.process ?? 'service'} instance to restart`);
  const restarted: { process: string; instance: string }[] = [];
  for (const [i, c] of all.entries()) {
    req.signal.throwIfAborted();
    const process = c.labels[LABEL.process]!;
    const proc = plannedProcess(req.spec, process, c.image);
    await req.report(`restarting ${c.name} (${i + 1}/${all.length})`, { instance: c.id.slice(0, 12) });
    await deps.containers.restart(c.id);
    const baseline = (await deps.containers.state(c.id))?.restartCount ?? 0;
    const inst = { id: c.id, name: c.name, process, ...(addressOf(c) ? { address: addressOf(c)! } : {}) };
    const outcome = await gate(config, deps, inst, proc, Date.now() + config.healthyDeadlineMs, req.signal, baseline);
    if (!outcome.ok) {
      const left = all.length - i - 1;
      throw await instanceFailure(deps, inst, `${outcome.why}; ${left} instance(s) after it were not restarted`);
    }
    restarted.push({ process, instance: c.id.slice(0, 12) });
    await req.report(`${c.name} is healthy again`, { instance: c.id.slice(0, 12) });
  }
  return { restarted };
}

function serviceContainers(deps: InstanceOpsDeps, app: string): Promise<ContainerSummary[]> {
  return deps.containers.list({ [LABEL.app]: app, [LABEL.role]: 'service' });
}

/** The process as a deploy plans it (its health check); the image only names it. */
function plannedProcess(spec: AppSpec, process: string, image: string): PlannedProcess {
  const proc = planApp({ spec, image, secrets: {} }).processes.find((p) => p.name === process);
  if (!proc) throw new StepFailedError('scale', `${spec.name} has no process ${process}`);
  return proc;
}

type Gated = { ok: true } | { ok: false; why: string };

/** The deploy's gate for one instance; restarts counted from `baselineRestarts` (a manual restart is not a crash). */
async function gate(config: InstanceOpsConfig, deps: InstanceOpsDeps, inst: GateInstance, proc: PlannedProcess, deadline: number, signal: AbortSignal, baselineRestarts: number): Promise<Gated> {
  const outcome = await gateInstance(inst, proc, {
    minHealthyMs: config.minHealthyMs,
    deadline,
    signal,
    state: async (id) => {
      const s = await deps.containers.state(id);
      return s && { ...s, restartCount: Math.max(0, s.restartCount - baselineRestarts) };
    },
  });
  if (outcome.ok) return outcome;
  const why = outcome.exited ? outcome.lastAnswer : `not healthy for ${Math.round(config.minHealthyMs / 1000)}s within ${Math.round(config.healthyDeadlineMs / 1000)}s; last answer: ${outcome.lastAnswer}`;
  return { ok: false, why };
}

async function instanceFailure(deps: InstanceOpsDeps, inst: GateInstance & { name: string }, why: string): Promise<InstanceFailedError> {
  const tail = await deps.containers.logs(inst.id, 5).catch((err: unknown) => `(no output: ${errorMessage(err)})`);
  const last = tail.trim().split('\n').slice(-5).join(' | ').slice(-500);
  return new InstanceFailedError(inst.name, inst.process, `${why}${last ? `; its last output: ${last}` : ''}`);
}

function addressOf(c: ContainerSummary): string | undefined {
  if (c.labels[LABEL.hostPort]) return `127.0.0.1:${c.labels[LABEL.hostPort]}`;
  const published = Object.values(c.published)[0];
  return published ? `127.0.0.1:${published}` : undefined;
}

async function publishedAddress(deps: InstanceOpsDeps, app: string, id: string): Promise<string | undefined> {
  const summary = (await deps.containers.list({ [LABEL.app]: app })).find((c) => c.id === id);
  const published = summary && Object.values(summary.published)[0];
  return published ? `127.0.0.1:${published}` : undefined;
}
