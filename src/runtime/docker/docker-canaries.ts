// Canary stages of the Docker runtime, as `norn canary`, `norn promote` and `norn canary fail` see them. The engine
// has no deployment object, so the stage lives in this receiver's process: the deploy's health step opens one per
// app while its canaries run beside the old containers, and the operator's decision reaches the waiting step
// through it. A receiver that restarts mid-stage forgets it; the crash recovery then removes the canaries (they
// never passed the deploy's gate) and the old containers keep serving.
import { InvalidInputError } from '../../errors.js';
import type { CanaryControl, CanaryDeployment, CanaryGroupState } from '../../pipeline/canary-control.js';

export type CanaryVerdict = { readonly outcome: 'promoted' | 'failed'; readonly by: 'operator' };

interface Stage {
  readonly sagaId: string;
  status: 'running' | 'successful' | 'failed';
  statusDescription: string;
  groups: CanaryGroupState[];
  /** True once the canaries passed their gate: only then can an operator promote them. */
  ready: boolean;
  decide?: (verdict: CanaryVerdict) => void;
}

/** The health step's handle on its stage. */
export interface OpenStage {
  /** Resolves when an operator promotes or fails the canaries. */
  readonly verdict: Promise<CanaryVerdict>;
  update(groups: readonly CanaryGroupState[], opts?: { ready?: boolean; description?: string }): void;
  close(status: 'successful' | 'failed', description: string): void;
}

export class DockerCanaries implements CanaryControl {
  /** Per app: the stage running now, or the last one (so `norn canary` shows how it ended). */
  private readonly stages = new Map<string, Stage>();

  open(app: string, sagaId: string, groups: readonly CanaryGroupState[]): OpenStage {
    const stage: Stage = { sagaId, status: 'running', statusDescription: 'canaries starting beside the running version', groups: [...groups], ready: false };
    const verdict = new Promise<CanaryVerdict>((resolve) => (stage.decide = resolve));
    this.stages.set(app, stage);
    return {
      verdict,
      update(next, opts = {}) {
        stage.groups = [...next];
        if (opts.ready !== undefined) stage.ready = opts.ready;
        if (opts.description) stage.statusDescription = opts.description;
      },
      close(status, description) {
        stage.status = status;
        stage.statusDescription = description;
        stage.decide = undefined;
      },
    };
  }

  latest(app: string): Promise<CanaryDeployment | null> {
    const stage = this.stages.get(app);
    return Promise.resolve(stage ? view(stage) : null);
  }

  promote(app: string): Promise<{ deploymentId: string; message: string }> {
    return Promise.resolve().then(() => {
      const stage = this.waiting(app, 'promote');
      if (!stage.ready) {
        const sick = stage.groups.find((g) => g.healthy < g.placedCanaries || g.placedCanaries < g.desiredCanaries);
        throw new InvalidInputError('app', `the canaries of ${app}${sick ? ` ("${sick.group}", ${sick.healthy}/${sick.desiredCanaries} healthy)` : ''} have not passed their health check yet: wait for them, or norn canary fail ${app}`, 409);
      }
      stage.decide?.({ outcome: 'promoted', by: 'operator' });
      stage.decide = undefined;
      stage.statusDescription = 'promoted by an operator: starting the rest of the new containers';
      return { deploymentId: stage.sagaId, message: `promoted the canaries of ${names(stage)} (deploy ${short(stage.sagaId)}): the rest of the new containers start, then replace the old ones` };
    });
  }

  fail(app: string): Promise<{ deploymentId: string; message: string }> {
    return Promise.resolve().then(() => {
      const stage = this.waiting(app, 'fail');
      stage.decide?.({ outcome: 'failed', by: 'operator' });
      stage.decide = undefined;
      stage.statusDescription = 'failed by an operator: removing the canaries';
      return { deploymentId: stage.sagaId, message: `failed the canaries of ${names(stage)} (deploy ${short(stage.sagaId)}): they are removed, the previous version keeps serving` };
    });
  }

  private waiting(app: string, verb: string): Stage {
    const stage = this.stages.get(app);
    if (!stage) throw new InvalidInputError('app', `${app} has no canary stage in this receiver, so no canary to ${verb}`, 409);
    if (stage.status !== 'running' || !stage.decide) {
      throw new InvalidInputError('app', `no canary of ${app} waits for a decision: its latest canary stage (deploy ${short(stage.sagaId)}) ${stage.statusDescription}`, 409);
    }
    return stage;
  }
}

function view(stage: Stage): CanaryDeployment {
  return {
    id: stage.sagaId,
    // The engine keeps no versions of an app; the deploy's saga names the stage.
    jobVersion: 0,
    status: stage.status,
    statusDescription: stage.statusDescription,
    groups: stage.groups,
    waitingForPromotion: stage.status === 'running' && stage.decide !== undefined,
  };
}

function names(stage: Stage): string {
  return stage.groups.map((g) => `"${g.group}"`).join(', ');
}

function short(id: string): string {
  return id.slice(0, 8);
}
