// One planned process instance rendered as a Docker container: the plan's image, command, env, resources, drain
// and volumes, plus what is Docker's own here: labels that let a restarted receiver find its containers, the
// restart policy, named volumes `<app>-<volume>`, and networking (a port published on 127.0.0.1, or host
// networking with a free port given as PORT).
import type Dockerode from 'dockerode';
import type { AppPlan, PlannedProcess } from '../../app-plan/plan-app.js';

/** Labels on every container the Docker runtime starts; the receiver's only record of what runs. */
export const LABEL = {
  app: 'norn.app',
  process: 'norn.process',
  saga: 'norn.saga',
  commit: 'norn.commit',
  /** `service` (a deploy's instance) or `run` (a one-off scheduled or function run). */
  role: 'norn.role',
  /** Host networking: the port the instance was told to listen on. */
  hostPort: 'norn.host-port',
} as const;

export type DockerNetwork = 'bridge' | 'host';

export interface InstanceTarget {
  readonly sagaId: string;
  readonly commitSha: string;
  readonly index: number;
  readonly network: DockerNetwork;
  /** Host networking only: the free port the instance listens on (its PORT). */
  readonly hostPort?: number;
  readonly role?: 'service' | 'run';
  /** One-off runs: arguments appended to the command (or the command, when the process has none). */
  readonly args?: readonly string[];
}

export function containerName(app: string, proc: string, t: Pick<InstanceTarget, 'sagaId' | 'index'>): string {
  return `${app}-${proc}-${t.sagaId.replace(/[^a-zA-Z0-9]/g, '').slice(0, 8)}-${t.index}`;
}

export function containerOptions(plan: AppPlan, proc: PlannedProcess, t: InstanceTarget): Dockerode.ContainerCreateOptions {
  const env = { ...proc.env };
  if (t.network === 'host' && t.hostPort !== undefined) env.PORT = String(t.hostPort);
  const labels: Record<string, string> = {
    [LABEL.app]: plan.app,
    [LABEL.process]: proc.name,
    [LABEL.saga]: t.sagaId,
    [LABEL.commit]: t.commitSha,
    [LABEL.role]: t.role ?? 'service',
  };
  if (t.hostPort !== undefined) labels[LABEL.hostPort] = String(t.hostPort);
  const publish = t.network === 'bridge' && proc.port !== undefined;
  return {
    name: containerName(plan.app, proc.name, t),
    Image: plan.image,
    ...command(proc, t.args ?? []),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    StopSignal: proc.drain.signal,
    ...(proc.drain.timeoutMs !== undefined ? { StopTimeout: Math.ceil(proc.drain.timeoutMs / 1000) } : {}),
    ...(publish ? { ExposedPorts: { [`${proc.port}/tcp`]: {} } } : {}),
    HostConfig: {
      RestartPolicy: { Name: t.role === 'run' ? 'no' : 'unless-stopped' },
      Memory: (proc.function?.memoryMb ?? proc.memoryMb) * 1024 * 1024,
      // Nomad's CPU is MHz; 1000 MHz is taken as one core.
      NanoCpus: proc.cpuMhz * 1_000_000,
      NetworkMode: t.network,
      Binds: plan.volumes.map((v) => `${plan.app}-${v.name}:${v.mount}${v.readOnly ? ':ro' : ''}`),
      ...(publish ? { PortBindings: { [`${proc.port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
    },
  };
}

/** `/bin/sh -c <command>`; arguments of a one-off run reach it as "$@". */
function command(proc: PlannedProcess, args: readonly string[]): { Cmd?: string[] } {
  if (proc.command) return { Cmd: args.length ? ['/bin/sh', '-c', `${proc.command} "$@"`, proc.name, ...args] : ['/bin/sh', '-c', proc.command] };
  return args.length ? { Cmd: [...args] } : {};
}
