// The worker side of the queue: claims deploys (one per lane, newest wins, a global limit), runs their pipeline,
// renews their leases while they run, and ends as `interrupted` the deploys a dead process left behind. Every change
// to a deploy goes through the lifecycle.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { DeployHistory } from './deploy-history.js';
import type { DeployLifecycle } from './deploy-lifecycle.js';
import type { DeployRecord } from './deploy-record.js';

export interface SchedulerConfig {
  readonly maxConcurrent: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
}

export interface SchedulerDeps {
  readonly lifecycle: Pick<DeployLifecycle, 'claimNext' | 'renewLease' | 'interrupt'>;
  readonly history: Pick<DeployHistory, 'countByStatus' | 'abandoned'>;
  readonly log: Logger;
  /** Runs one claimed deploy and ends it (deploy-execution.ts); must not throw. */
  readonly execute: (deploy: DeployRecord, signal: AbortSignal) => Promise<void>;
  /** Called for each abandoned deploy after it was marked interrupted (remove its work dir, report status). */
  readonly onInterrupted?: (deploy: DeployRecord) => Promise<void>;
}

/** Identifies this process in leases: host, pid and a per-start nonce (pid 1 in a container repeats). */
export function workerIdentity(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export class DeployScheduler {
  readonly owner = workerIdentity();
  private readonly running = new Map<string, AbortController>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  /** The scheduling pass in flight, if any. */
  private pass: Promise<void> | undefined;
  private wanted = false;
  private stopped = true;
  /** The launched deploys not yet ended, so `stop` can wait for each to record its end. */
  private readonly inFlight = new Set<Promise<void>>();
  private lastMaintenance = 0;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly deps: SchedulerDeps,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.reapAbandoned();
    this.timer = setInterval(() => this.wake(), this.config.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Stops claiming, interrupts what runs and waits for those pipelines to record their end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // A pass in flight may still claim a deploy: let it, so that deploy is aborted below and ends like the others
    // instead of starting after the store has closed.
    await this.pass;
    for (const c of this.running.values()) c.abort(new Error('the receiver is shutting down'));
    await Promise.allSettled([...this.inFlight]);
  }

  /** Asks for a scheduling pass soon (after an enqueue or a finished deploy). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.wanted = true;
      return;
    }
    this.ticking = true;
    this.pass = this.tick()
      .catch((err) => this.deps.log.error({ err }, 'scheduler pass failed'))
      .finally(() => {
        this.ticking = false;
        if (this.wanted) {
          this.wanted = false;
          this.wake();
        }
      });
  }

  /** Resolves once nothing is queued or running (tests and graceful drains). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await this.deps.history.countByStatus();
      if (!counts.queued && !counts.running && this.running.size === 0) return;
      if (Date.now() > deadline) throw new Error(`scheduler not idle after ${timeoutMs}ms: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async tick(): Promise<void> {
    // Leases and dead owners are looked after on the poll's rhythm, not on every wake: a burst of pushes wakes the
    // scheduler once per delivery, and each would otherwise write every running deploy's lease again.
    const now = Date.now();
    if (now - this.lastMaintenance >= Math.min(this.config.pollIntervalMs, this.config.leaseMs / 3)) {
      this.lastMaintenance = now;
      await this.renewLeases();
      await this.reapAbandoned();
    }
    while (!this.stopped && this.running.size < this.config.maxConcurrent) {
      const claimed = await this.deps.lifecycle.claimNext(this.owner, this.config.leaseMs);
      if (!claimed) return;
      this.launch(claimed);
    }
  }

  private launch(deploy: DeployRecord): void {
    const abort = new AbortController();
    this.running.set(deploy.id, abort);
    const done: Promise<void> = this.deps
      .execute(deploy, abort.signal)
      .catch((err) => this.deps.log.error({ err: errorMessage(err), sagaId: deploy.id }, 'deploy execution failed'))
      .finally(() => {
        this.running.delete(deploy.id);
        this.inFlight.delete(done);
        this.wake();
      });
    this.inFlight.add(done);
  }

  private async renewLeases(): Promise<void> {
    for (const [id, abort] of this.running) {
      const held = await this.deps.lifecycle.renewLease(id, this.owner, this.config.leaseMs);
      if (!held && !abort.signal.aborted) abort.abort(new Error('lost the deploy lease'));
    }
  }

  private async reapAbandoned(): Promise<void> {
    const abandoned = await this.deps.history.abandoned((owner) => this.isDead(owner));
    for (const d of abandoned) {
      if (this.running.has(d.id)) continue;
      if (await this.deps.lifecycle.interrupt(d)) {
        this.deps.log.warn({ sagaId: d.id, app: d.app }, 'deploy interrupted by a dead process');
        await this.deps.onInterrupted?.(d).catch((err) => this.deps.log.error({ err, sagaId: d.id }, 'interrupted-deploy cleanup failed'));
      }
    }
  }

  /** A lease owner on this host is dead when its pid is gone, or when it is our pid from an earlier start. */
  private isDead(owner: string): boolean {
    const [host, pidText] = owner.split(':');
    if (host !== os.hostname()) return false;
    const pid = Number(pidText);
    if (owner === this.owner) return false;
    if (pid === process.pid) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}
