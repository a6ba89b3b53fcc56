// Part of the Nomad simulator (a test double): the task driver seam. The scripted driver acts out a failure
// scenario without running anything; nomad-sim-docker.ts runs the task for real.
import type { NomadServiceCheck, NomadTask } from '../../src/integrations/nomad/nomad-types.js';

/** What a registered job's task group does in the simulator. */
export type NomadSimScenario =
  | 'healthy'
  | 'crash' // the task exits with code 1 after starting, every time
  | 'never-healthy' // the task runs but its health check never passes
  | 'progress-deadline' // the image never finishes downloading, so nothing starts
  | 'placement-failure' // no node has room: the eval reports FailedTGAllocs and nothing is placed
  | 'validation-error'; // registration answers 500 with a go-multierror body

export interface SimPort {
  Label: string;
  Value: number;
  To: number;
  HostIP: string;
}

export interface SimTaskContext {
  allocId: string;
  jobId: string;
  /** service, batch…: a scripted batch task exits on its own (0 when healthy, 1 for `crash`). */
  jobType: string;
  group: string;
  task: NomadTask;
  ports: SimPort[];
  /** The task's Env plus the NOMAD_* variables Nomad sets. */
  env: Record<string, string>;
}

export interface SimTaskHooks {
  event(type: string, message: string, details?: Record<string, string>): void;
  exited(exitCode: number): void;
  /** Output the task wrote, kept as the client keeps alloc/logs/<task>.<type>.0. */
  log(type: 'stdout' | 'stderr', data: Buffer): void;
}

export interface SimTaskHandle {
  /** One run of an http check against the task. */
  probe(check: NomadServiceCheck, port: SimPort | undefined): Promise<boolean>;
  stop(signal: string, timeoutMs: number): Promise<void>;
}

export interface NomadSimDriver {
  /** Resolves once the task runs and rejects when the driver cannot start it; `signal` aborts a start that hangs. */
  start(ctx: SimTaskContext, hooks: SimTaskHooks, signal: AbortSignal): Promise<SimTaskHandle>;
}

/** A driver that plays `scenario` after `delayMs` of pretend work. */
export function scriptedDriver(scenario: NomadSimScenario, delayMs: number): NomadSimDriver {
  return {
    start(ctx, hooks, signal) {
      return new Promise((resolve, reject) => {
        hooks.event('Driver', `Downloading image ${String(ctx.task.Config.image ?? '')}`);
        let crash: NodeJS.Timeout | undefined;
        const onAbort = () => {
          clearTimeout(timer);
          reject(new Error('start aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const timer = setTimeout(() => {
          if (scenario === 'progress-deadline') return; // the pull never finishes
          signal.removeEventListener('abort', onAbort);
          hooks.log('stdout', Buffer.from(`${ctx.task.Name} started (image ${String(ctx.task.Config.image ?? '')})\n`));
          if (scenario === 'crash') crash = setTimeout(() => hooks.exited(1), delayMs);
          else if (ctx.jobType === 'batch' || ctx.jobType === 'sysbatch') crash = setTimeout(() => hooks.exited(0), delayMs);
          resolve({
            probe: async () => scenario === 'healthy',
            stop: async () => clearTimeout(crash),
          });
        }, delayMs);
      });
    },
  };
}
