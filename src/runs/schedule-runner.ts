// Runs scheduled processes when the runtime does not (the Docker runtime; Nomad has periodic jobs): at the start
// of every minute, each scheduled process of each deployable app whose cron schedule is due in its time zone runs
// once as a one-off instance of the app's current image. A run still going when it is due again is not doubled, and
// a paused schedule (`norn cron <app> pause <process>`, kept in the store) does not run until it is resumed.
// Receivers sharing a store claim each due run there first (schedule-claims.ts), so several of them on one Docker
// host start it once, and none starts it while a run of the same process is still going on another.
import type { Logger } from 'pino';
import type { AppCatalog } from '../apps/app-catalog.js';
import { planApp } from '../app-plan/plan-app.js';
import { errorMessage } from '../errors.js';
import type { RuntimeSource } from '../pipeline/runtime.js';
import { cronMatches, wallClock } from './cron-match.js';
import type { ProcessRuns } from './process-runs.js';
import type { ScheduleClaims } from './schedule-claims.js';
import type { SchedulePauses } from './schedule-pauses.js';

export class ScheduleRunner {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: {
      catalog: Pick<AppCatalog, 'list'>;
      runtime: RuntimeSource;
      runs: ProcessRuns;
      pauses: Pick<SchedulePauses, 'ofApp'>;
      claims: Pick<ScheduleClaims, 'claim' | 'end' | 'prune'>;
      log: Logger;
      now?(): Date;
    },
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.running]);
  }

  /** Starts every run due at `at` (a minute); resolves when they are started, not finished. */
  async runDue(at: Date): Promise<void> {
    const runtime = await this.deps.runtime.current();
    if (!runtime?.runOnce) return;
    await this.deps.claims.prune();
    for (const app of this.deps.catalog.list().apps) {
      if (!app.spec.deploy) continue;
      // The plan decides the schedule's time zone, as it does for Nomad's periodic jobs.
      const plan = planApp({ spec: app.spec, image: '', secrets: {} });
      const due = plan.processes.filter((proc) => proc.schedule && cronMatches(proc.schedule.cron, wallClock(at, proc.schedule.timeZone)));
      if (due.length === 0) continue;
      const paused = await this.deps.pauses.ofApp(app.name);
      for (const proc of due) {
        if (paused.has(proc.name)) {
          this.deps.log.info({ app: app.name, process: proc.name }, 'scheduled run skipped: the schedule is paused');
          continue;
        }
        if (this.deps.runs.isRunning(app.name, proc.name)) {
          this.deps.log.warn({ app: app.name, process: proc.name }, 'scheduled run skipped: the previous one is still running');
          continue;
        }
        const claim = await this.deps.claims.claim(app.name, proc.name, at);
        if (claim.outcome === 'taken') {
          this.deps.log.info({ app: app.name, process: proc.name, receiver: claim.by }, 'scheduled run left to the receiver that claimed it');
          continue;
        }
        if (claim.outcome === 'running') {
          this.deps.log.warn({ app: app.name, process: proc.name, receiver: claim.by, dueAt: claim.dueAt }, 'scheduled run skipped: the previous one is still running on another receiver');
          continue;
        }
        const run = this.deps.runs
          .run(app, proc.name, 'schedule')
          .catch((err: unknown) => this.deps.log.warn({ app: app.name, process: proc.name, err: errorMessage(err) }, 'scheduled run not started'))
          .finally(() => this.deps.claims.end(app.name, proc.name, at))
          .catch((err: unknown) => this.deps.log.warn({ app: app.name, process: proc.name, err: errorMessage(err) }, 'could not record the end of a scheduled run; its claim goes stale after the run deadline'));
        this.running.add(run);
        void run.finally(() => this.running.delete(run));
      }
    }
  }

  private schedule(): void {
    const now = (this.deps.now ?? (() => new Date()))();
    const next = new Date(now);
    next.setUTCSeconds(0, 0);
    next.setUTCMinutes(next.getUTCMinutes() + 1);
    this.timer = setTimeout(() => {
      this.runDue(next).catch((err: unknown) => this.deps.log.error({ err: errorMessage(err) }, 'schedule pass failed'));
      this.schedule();
    }, next.getTime() - now.getTime());
    this.timer.unref();
  }
}
