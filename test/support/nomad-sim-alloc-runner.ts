// Part of the Nomad simulator (a test double): one allocation's life on a pretend client node. It starts each task
// through a driver, records task events the way Nomad's client does, restarts per the RestartPolicy, and decides
// deployment health like the alloc health tracker: tasks running and checks passing for MinHealthyTime, within
// HealthyDeadline (docs/nomad-api.md sections 2 and 3). Durations arrive in ns and are scaled for tests.
import type {
  NomadAllocation,
  NomadServiceCheck,
  NomadTaskGroup,
  NomadTaskState,
} from '../../src/integrations/nomad/nomad-types.js';
import type { NomadSimDriver, SimTaskHandle } from './nomad-sim-driver.js';

export interface AllocRunnerOptions {
  /** Real milliseconds for a Nomad duration in nanoseconds. */
  scale(ns: number): number;
  /** Whether a deployment watches this allocation (only then does Nomad decide its health). */
  trackHealth: boolean;
}

export interface AllocRunnerCallbacks {
  changed(): void;
  health(healthy: boolean): void;
}

/** One task's log file as the client keeps it (alloc/logs/<task>.<type>.0), and who follows it. */
export interface SimLogFile {
  data: Buffer;
  readonly followers: Set<(chunk: Buffer) => void>;
}

export class SimAllocRunner {
  private readonly abort = new AbortController();
  private readonly handles = new Map<string, SimTaskHandle>();
  private readonly exits = new Map<string, (code: number) => void>();
  private readonly userRestarts = new Set<string>();
  private readonly logFiles = new Map<string, SimLogFile>();
  /** Set by a test: how the tasks behave when they start again after a user restart. */
  driverAfterRestart: NomadSimDriver | undefined;
  private restartedByUser = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private healthDecided = false;

  constructor(
    private readonly alloc: NomadAllocation,
    private readonly group: NomadTaskGroup,
    private readonly driver: NomadSimDriver,
    private readonly opts: AllocRunnerOptions,
    private readonly cb: AllocRunnerCallbacks,
  ) {
    alloc.TaskStates = Object.fromEntries(
      group.Tasks.map((t): [string, NomadTaskState] => [
        t.Name,
        { State: 'pending', Failed: false, Restarts: 0, LastRestart: null, StartedAt: null, FinishedAt: null, Events: [] },
      ]),
    );
    for (const t of group.Tasks) this.event(t.Name, 'Received', 'Task received by client');
  }

  /** Start once `after` settles (the allocation this one replaces has stopped). */
  start(after: Promise<unknown> = Promise.resolve()): void {
    void after.finally(() => {
      if (this.stopped) return;
      for (const t of this.group.Tasks) this.loops.push(this.runTask(t.Name));
      if (this.opts.trackHealth) this.trackHealth();
    });
  }

  /** The log file of `task`'s stdout or stderr (empty until it writes). */
  logFile(task: string, type: 'stdout' | 'stderr'): SimLogFile {
    const key = `${task}.${type}`;
    let file = this.logFiles.get(key);
    if (!file) this.logFiles.set(key, (file = { data: Buffer.alloc(0), followers: new Set() }));
    return file;
  }

  /** Appends to a task's log, as the task writing it would. */
  writeLog(task: string, type: 'stdout' | 'stderr', chunk: Buffer): void {
    const file = this.logFile(task, type);
    file.data = Buffer.concat([file.data, chunk]);
    for (const follower of file.followers) follower(chunk);
  }

  hasTask(task: string): boolean {
    return this.group.Tasks.some((t) => t.Name === task);
  }

  isRunning(task: string): boolean {
    return this.handles.has(task);
  }

  /**
   * The client's in-place restart (`nomad alloc restart`): each running task (or `task`) is killed with its kill
   * signal and started again at once, without counting against the restart policy.
   */
  async restart(task?: string): Promise<void> {
    const names = task ? [task] : this.group.Tasks.map((t) => t.Name).filter((n) => this.handles.has(n));
    await Promise.all(
      names.map(async (name) => {
        const handle = this.handles.get(name);
        const t = this.group.Tasks.find((x) => x.Name === name)!;
        if (!handle) return;
        this.userRestarts.add(name);
        this.event(name, 'Restart Signaled', 'User requested restart');
        await handle.stop(t.KillSignal || 'SIGTERM', this.opts.scale(t.KillTimeout ?? 5e9)).catch(() => undefined);
        this.exits.get(name)?.(0);
      }),
    );
  }

  /** Stops the tasks; every call waits for the same, single stop. */
  stop(): Promise<void> {
    this.stopping ??= this.stopTasks();
    return this.stopping;
  }

  private async stopTasks(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all(
      this.group.Tasks.map(async (t) => {
        const state = this.state(t.Name);
        const handle = this.handles.get(t.Name);
        if (handle) {
          this.event(t.Name, 'Killing', `Sent interrupt. Waiting ${goDuration(t.KillTimeout ?? 5e9)} before force killing`);
          await handle.stop(t.KillSignal || 'SIGTERM', this.opts.scale(t.KillTimeout ?? 5e9)).catch(() => undefined);
          this.event(t.Name, 'Killed', 'Task successfully killed');
        }
        if (state.State !== 'dead') {
          state.State = 'dead';
          state.FinishedAt = new Date().toISOString();
        }
      }),
    );
    this.updateClientStatus();
    // A start still in flight ends here too, so nothing the driver made outlives stop().
    await Promise.all(this.loops);
  }

  private async runTask(name: string): Promise<void> {
    const task = this.group.Tasks.find((t) => t.Name === name)!;
    const policy = this.group.RestartPolicy!;
    const restarts: number[] = [];
    this.event(name, 'Task Setup', 'Building Task Directory');
    while (!this.stopped) {
      let exited: (code: number) => void = () => undefined;
      const exit = new Promise<number>((resolve) => (exited = resolve));
      this.exits.set(name, (code) => exited(code));
      try {
        const handle = await (this.restartedByUser && this.driverAfterRestart ? this.driverAfterRestart : this.driver).start(
          { allocId: this.alloc.ID, jobId: this.alloc.JobID, jobType: this.alloc.JobType, group: this.group.Name, task, ports: this.ports(), env: this.env(task.Env ?? {}) },
          { event: (type, message, details) => this.event(name, type, message, details), exited: (code) => exited(code), log: (type, data) => this.writeLog(name, type, data) },
          this.abort.signal,
        );
        if (this.stopped) return void (await handle.stop('SIGKILL', 0).catch(() => undefined));
        this.handles.set(name, handle);
        Object.assign(this.state(name), { State: 'running', StartedAt: new Date().toISOString() });
        this.event(name, 'Started', 'Task started by client');
        const code = await this.untilStopped(exit);
        this.handles.delete(name);
        this.event(name, 'Terminated', `Exit Code: ${code}`, { exit_code: String(code) }, { ExitCode: code });
        // A batch task that succeeded is done: the restart policy only applies to failures (N client/allocrunner/
        // taskrunner/restarts: a successful batch exit is not restarted).
        if (code === 0 && (this.alloc.JobType === 'batch' || this.alloc.JobType === 'sysbatch')) {
          Object.assign(this.state(name), { State: 'dead', Failed: false, FinishedAt: new Date().toISOString() });
          this.updateClientStatus();
          return;
        }
      } catch (err) {
        if (this.stopped) return;
        this.event(name, 'Driver Failure', err instanceof Error ? err.message : String(err), {}, { FailsTask: false });
      }
      if (this.stopped) return;
      if (this.userRestarts.delete(name)) {
        this.restartedByUser = true;
        const state = this.state(name);
        this.event(name, 'Restarting', 'Task restarting in 0s', { restart_reason: 'User requested restart' });
        Object.assign(state, { State: 'pending', Restarts: state.Restarts + 1, LastRestart: new Date().toISOString() });
        this.updateClientStatus();
        continue;
      }
      const now = Date.now();
      const window = this.opts.scale(policy.Interval);
      while (restarts.length > 0 && restarts[0]! < now - window) restarts.shift();
      let delay = this.opts.scale(policy.Delay);
      if (restarts.length >= policy.Attempts) {
        const why = `Exceeded allowed attempts ${policy.Attempts} in interval ${goDuration(policy.Interval)} and mode is "${policy.Mode}"`;
        if (policy.Mode === 'fail') {
          this.event(name, 'Not Restarting', why, {}, { FailsTask: true });
          Object.assign(this.state(name), { State: 'dead', Failed: true, FinishedAt: new Date().toISOString() });
          this.updateClientStatus();
          this.decideHealth(false, 'Unhealthy because of failed task');
          return;
        }
        this.event(name, 'Restarting', why);
        delay = Math.max(delay, restarts[0]! + window - now);
      } else {
        this.event(name, 'Restarting', `Task restarting in ${goDuration(policy.Delay)}`, { restart_reason: 'Restart within policy' });
      }
      restarts.push(now);
      const state = this.state(name);
      Object.assign(state, { State: 'pending', Restarts: state.Restarts + 1, LastRestart: new Date().toISOString() });
      this.updateClientStatus();
      await this.sleep(delay);
    }
  }

  /** The client's health hook: healthy once everything runs (and checks pass) for MinHealthyTime. */
  private trackHealth(): void {
    const update = this.group.Update!;
    if (update.HealthCheck === 'manual') return;
    const minHealthy = this.opts.scale(update.MinHealthyTime ?? 0);
    const deadlineNs = update.HealthyDeadline ?? 300e9;
    const checks = this.checks();
    let since: number | undefined;
    let ticking = false;
    const tick = async () => {
      if (ticking || this.healthDecided || this.stopped) return;
      ticking = true;
      try {
        const running = this.group.Tasks.every((t) => this.state(t.Name).State === 'running');
        const passing = running && (update.HealthCheck !== 'checks' || (await this.probeAll(checks)));
        if (!passing) since = undefined;
        else if ((since ??= Date.now()) + minHealthy <= Date.now()) this.decideHealth(true);
      } finally {
        ticking = false;
      }
    };
    const every = Math.max(2, Math.min(20, ...checks.map((c) => this.opts.scale(c.check.Interval))));
    const interval = setInterval(() => void tick(), every);
    this.timers.add(interval);
    this.later(this.opts.scale(deadlineNs), () => {
      clearInterval(interval);
      if (this.healthDecided || this.stopped) return;
      const pending = this.group.Tasks.some((t) => this.state(t.Name).State !== 'running');
      const failing = [...new Set(checks.map((c) => c.service))].join(', ');
      this.decideHealth(
        false,
        pending || checks.length === 0 || update.HealthCheck !== 'checks'
          ? `Task not running by healthy_deadline of ${goDuration(deadlineNs)}`
          : `Services not healthy by deadline: ${failing}`,
      );
    });
  }

  private decideHealth(healthy: boolean, message?: string): void {
    if (this.healthDecided || !this.opts.trackHealth) return;
    this.healthDecided = true;
    if (!healthy && message) for (const t of this.group.Tasks) this.event(t.Name, 'Alloc Unhealthy', message);
    this.cb.health(healthy);
  }

  private checks(): { check: NomadServiceCheck; portLabel: string | undefined; service: string }[] {
    const services = [...(this.group.Services ?? []), ...this.group.Tasks.flatMap((t) => t.Services ?? [])];
    return services.flatMap((s) =>
      (s.Checks ?? []).map((check) => ({ check, portLabel: check.PortLabel || s.PortLabel, service: s.Name })),
    );
  }

  private async probeAll(checks: ReturnType<SimAllocRunner['checks']>): Promise<boolean> {
    const handle = this.handles.get(this.group.Tasks[0]!.Name);
    if (!handle) return false;
    const results = await Promise.all(
      checks.map((c) => handle.probe(c.check, this.ports().find((p) => p.Label === c.portLabel)).catch(() => false)),
    );
    return results.every(Boolean);
  }

  private ports() {
    return this.alloc.AllocatedResources?.Shared.Ports ?? [];
  }

  private env(taskEnv: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {
      ...taskEnv,
      NOMAD_ALLOC_ID: this.alloc.ID,
      NOMAD_JOB_NAME: this.alloc.JobID,
      NOMAD_GROUP_NAME: this.group.Name,
    };
    for (const p of this.ports()) {
      const key = p.Label.replace(/[^A-Za-z0-9_]/g, '_');
      Object.assign(env, { [`NOMAD_PORT_${key}`]: String(p.To || p.Value), [`NOMAD_HOST_PORT_${key}`]: String(p.Value) });
      env[`NOMAD_ADDR_${key}`] = `${p.HostIP}:${p.Value}`;
    }
    return env;
  }

  private state(task: string): NomadTaskState {
    return this.alloc.TaskStates![task]!;
  }

  private event(task: string, type: string, message: string, details: Record<string, string> = {}, extra = {}): void {
    const time = Date.now() * 1e6;
    this.state(task).Events!.push({ Type: type, Time: time, Message: '', DisplayMessage: message, Details: details, FailsTask: false, ...extra });
    this.updateClientStatus();
  }

  private updateClientStatus(): void {
    const states = Object.values(this.alloc.TaskStates ?? {});
    const [status, description] = states.some((s) => s.Failed)
      ? (['failed', 'Failed tasks'] as const)
      : states.every((s) => s.State === 'dead')
        ? (['complete', 'All tasks have completed'] as const)
        : states.every((s) => s.State === 'running')
          ? (['running', 'Tasks are running'] as const)
          : (['pending', 'No tasks have started'] as const);
    this.alloc.ClientStatus = status;
    this.alloc.ClientDescription = description;
    this.cb.changed();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private sleep(ms: number): Promise<void> {
    return this.untilStopped(new Promise<void>((resolve) => this.later(ms, resolve))).catch(() => undefined);
  }

  /** `promise`, or a rejection as soon as the runner stops; the abort listener does not outlive the wait. */
  private untilStopped<T>(promise: Promise<T>): Promise<T> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(new Error('stopped'));
    let onAbort = () => undefined as void;
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error('stopped'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([promise, stopped]).finally(() => signal.removeEventListener('abort', onAbort));
  }
}

/** Go's time.Duration.String() for whole milliseconds and up: 5m0s, 30s, 1h0m0s, 250ms. */
export function goDuration(ns: number): string {
  const ms = Math.round(ns / 1e6);
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
