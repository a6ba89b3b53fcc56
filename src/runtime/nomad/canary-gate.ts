// The health gate's canary policy (Nomad). A process with `canary` gets `Update.Canary` and no AutoPromote, so a
// new version first runs `count` canaries beside the old allocations and goes no further until someone promotes
// them. While the gate follows such a deployment it waits for one of four things, and says in the saga which:
// - an operator promotes them (`norn promote <app>`): the rollout continues;
// - an operator fails them (`norn canary fail <app>`): the deploy fails (and rolls back if the spec allows);
// - a canary turns unhealthy: the gate fails the deployment at once, whatever is left of evaluateAfter;
// - `evaluateAfter` has passed since they were placed and every canary is healthy: the gate promotes them (as
//   Norn's canary step does). Canaries still not healthy then are waited for until the step's deadline, where
//   they are failed, so no deployment is left half promoted.
import { errorMessage } from '../../errors.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadDeployment } from '../../integrations/nomad/nomad-types.js';
import type { StepProgress } from '../../pipeline/step.js';

export interface CanaryGateConfig {
  readonly app: string;
  /** How long a group's canaries are watched before the gate promotes them (its `evaluateAfter`). */
  windowMs(group: string): number;
  /** True for a rollback to a version that already ran: its canaries are promoted as soon as they are healthy. */
  readonly promoteWhenHealthy?: boolean;
}

export interface CanaryGateDeps {
  readonly nomad: Pick<NomadClient, 'promoteDeployment' | 'failDeployment'>;
  now(): number;
  /** A line for the saga; its action names it (`canary.placed`, `canary.waiting`, `canary.promoted`, `canary.failed`). */
  note(message: string, progress: StepProgress): void;
}

/** What the watch should do next: wake up after `wakeInMs` at the latest, so a timed decision is not late. */
export interface CanaryReview {
  readonly wakeInMs?: number;
}

const RETRY_MS = 1000;

export class CanaryGate {
  private placedAt?: number;
  private groups: string[] = [];
  private announcedWaiting = false;
  private decided?: 'promoted' | 'failed';
  private operatorNoted = false;

  constructor(
    private readonly config: CanaryGateConfig,
    private readonly deps: CanaryGateDeps,
  ) {}

  /** True once this deployment had canaries waiting for promotion. */
  get hadCanaries(): boolean {
    return this.groups.length > 0;
  }

  /** Called with every read of the deployment while it runs, and with the read that shows it successful. */
  async review(d: NomadDeployment, signal: AbortSignal): Promise<CanaryReview> {
    const waiting = d.Status === 'running' ? Object.entries(d.TaskGroups).filter(([, s]) => s.DesiredCanaries > 0 && !s.Promoted) : [];
    if (waiting.length === 0) {
      if (this.hadCanaries && this.decided !== 'promoted' && !this.operatorNoted) {
        this.operatorNoted = true;
        this.deps.note(`canaries of ${this.list()} promoted by an operator (norn promote): rolling out the rest`, { action: 'canary.promoted', metadata: { by: 'operator', deploymentId: d.ID } });
      }
      return {};
    }
    const now = this.deps.now();
    if (this.placedAt === undefined) {
      this.placedAt = now;
      this.groups = waiting.map(([g]) => g).sort();
      const counts = waiting.map(([g, s]) => `${s.DesiredCanaries} of "${g}"`).join(', ');
      this.deps.note(`deployment ${short(d.ID)} places canaries (${counts}) beside the running version; waiting for them to be healthy`, {
        action: 'canary.placed',
        metadata: {
          deploymentId: d.ID,
          groups: this.groups
        },
      });
    }
    if (this.decided) return {};

    const sick = waiting.find(([, s]) => s.UnhealthyAllocs > 0);
    if (sick) {
      return this.decide('failed', d, signal, `canary of "${sick[0]}" is unhealthy: failing deployment ${short(d.ID)}`, { by: 'health', group: sick[0] });
    }
    const windowMs = this.config.promoteWhenHealthy ? 0 : Math.max(...waiting.map(([g]) => this.config.windowMs(g)));
    const promoteAt = this.placedAt + windowMs;
    const healthy = waiting.every(([, s]) => s.HealthyAllocs >= s.DesiredCanaries);
    if (!healthy) return { wakeInMs: undefined };
    if (now >= promoteAt) {
      const why = this.config.promoteWhenHealthy ? 'healthy (a rollback: nothing to evaluate)' : `healthy, ${seconds(windowMs)} (evaluateAfter) after they were placed`;
      return this.decide('promoted', d, signal, `canaries of ${this.list()} ${why}: promoting`, { by: 'evaluateAfter' });
    }
    if (!this.announcedWaiting) {
      this.announcedWaiting = true;
      const app = this.config.app;
      this.deps.note(
        `canaries of ${this.list()} are healthy; waiting for promotion: \`norn promote ${app}\` rolls out the rest, \`norn canary fail ${app}\` stops them; ` +
          `otherwise Norn promotes them at ${new Date(Date.now() + (promoteAt - now)).toISOString()} (evaluateAfter ${seconds(windowMs)})`,
        { action: 'canary.waiting', metadata: { deploymentId: d.ID, promoteAt: new Date(Date.now() + (promoteAt - now)).toISOString(), evaluateAfterMs: windowMs } },
      );
    }
    return { wakeInMs: promoteAt - now };
  }

  /** The step's deadline came with canaries still waiting: fail them rather than leave the deployment half done. */
  async atDeadline(d: NomadDeployment, signal: AbortSignal): Promise<void> {
    const waiting = Object.values(d.TaskGroups).some((s) => s.DesiredCanaries > 0 && !s.Promoted);
    if (d.Status !== 'running' || !waiting || this.decided === 'failed') return;
    await this.decide('failed', d, signal, `canaries of ${this.list()} were neither healthy nor promoted by the step's deadline: failing deployment ${short(d.ID)}`, { by: 'deadline' });
  }

  /** Why a deployment with canaries failed, when the gate did not fail it itself: an operator did. */
  operatorFailure(d: NomadDeployment): string | undefined {
    if (d.Status !== 'failed' || !this.hadCanaries || this.decided === 'failed') return undefined;
    this.deps.note(`canaries of ${this.list()} failed by an operator (norn canary fail)`, { action: 'canary.failed', metadata: { by: 'operator', deploymentId: d.ID } });
    return 'canaries failed by an operator (norn canary fail)';
  }

  private async decide(outcome: 'promoted' | 'failed', d: NomadDeployment, signal: AbortSignal, message: string, metadata: Record<string, unknown>): Promise<CanaryReview> {
    this.deps.note(message, { action: outcome === 'promoted' ? 'canary.promoted' : 'canary.failed', metadata: { deploymentId: d.ID, ...metadata } });
    try {
      if (outcome === 'promoted') await this.deps.nomad.promoteDeployment(d.ID, { signal });
      else await this.deps.nomad.failDeployment(d.ID, { signal });
      this.decided = outcome;
      return {};
    } catch (err) {
      if (signal.aborted) throw err;
      // An operator may have decided first (Nomad refuses a terminal deployment); the next read shows it. Anything
      // else is tried again at the next read.
      this.deps.note(`could not ${outcome === 'promoted' ? 'promote' : 'fail'} deployment ${short(d.ID)}: ${errorMessage(err)}`, { action: 'canary.retry', metadata: { deploymentId: d.ID } });
      return { wakeInMs: RETRY_MS };
    }
  }

  private list(): string {
    return this.groups.map((g) => `"${g}"`).join(', ');
  }
}

function short(id: string): string {
  return id.slice(0, 8);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
