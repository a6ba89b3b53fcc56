// Canary decisions on Nomad: the app's service job's latest deployment (`GET /v1/job/:id/deployment`), promoted
// with `POST /v1/deployment/promote/:id {All: true}` or failed with `POST /v1/deployment/fail/:id`. Nomad then
// rolls out the rest, or stops the canaries (and reverts when a group has AutoRevert).
import { InvalidInputError, UpstreamError } from '../../errors.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadDeployment } from '../../integrations/nomad/nomad-types.js';
import type { CanaryControl, CanaryDeployment } from '../../pipeline/canary-control.js';

export function nomadCanary(nomad: Pick<NomadClient, 'latestDeployment' | 'promoteDeployment' | 'failDeployment'>): CanaryControl {
  const latest = async (app: string, signal?: AbortSignal): Promise<NomadDeployment | null> => {
    try {
      return (await nomad.latestDeployment(app, { signal })).value;
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return null;
      throw err;
    }
  };

  /** The deployment waiting for a decision, or 409 saying why there is nothing to decide. */
  const waiting = async (app: string, verb: string, signal?: AbortSignal): Promise<NomadDeployment> => {
    const d = await latest(app, signal);
    if (!d) throw new InvalidInputError('app', `${app} has no Nomad deployment, so no canary to ${verb}`, 409);
    if (!canaryDeployment(d).waitingForPromotion) {
      const what = d.Status === 'running' ? 'is running without canaries waiting for promotion' : `is ${d.Status}`;
      throw new InvalidInputError('app', `no canary of ${app} waits for a decision: its latest deployment ${short(d.ID)} (job version ${d.JobVersion}) ${what}`, 409);
    }
    return d;
  };

  return {
    latest: async (app, signal) => {
      const d = await latest(app, signal);
      return d ? canaryDeployment(d) : null;
    },
    async promote(app, signal) {
      const d = await waiting(app, 'promote', signal);
      const sick = Object.entries(d.TaskGroups).find(([, s]) => s.DesiredCanaries > 0 && !s.Promoted && s.HealthyAllocs < s.DesiredCanaries);
      if (sick) {
        const [group, s] = sick;
        throw new InvalidInputError(
          'app',
          `the canaries of "${group}" are not all healthy (${s.HealthyAllocs}/${s.DesiredCanaries}${s.UnhealthyAllocs ? `, ${s.UnhealthyAllocs} unhealthy` : ''}), so Nomad would refuse to promote them: wait for them, or norn canary fail ${app}`,
          409,
        );
      }
      await nomad.promoteDeployment(d.ID, { signal });
      return { deploymentId: d.ID, message: `promoted the canaries of ${groupsOf(d)} in deployment ${short(d.ID)} (job version ${d.JobVersion}): Nomad rolls out the rest` };
    },
    async fail(app, signal) {
      const d = await waiting(app, 'fail', signal);
      const answer = await nomad.failDeployment(d.ID, { signal });
      const reverted = typeof answer.RevertedJobVersion === 'number' ? `; Nomad reverts to job version ${answer.RevertedJobVersion}` : '';
      return { deploymentId: d.ID, message: `failed deployment ${short(d.ID)} (job version ${d.JobVersion}): its canaries of ${groupsOf(d)} stop, the previous version keeps serving${reverted}` };
    },
  };
}

export function canaryDeployment(d: NomadDeployment): CanaryDeployment {
  const groups = Object.entries(d.TaskGroups)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([group, s]) => ({
      group,
      desiredCanaries: s.DesiredCanaries,
      placedCanaries: s.PlacedCanaries?.length ?? 0,
      healthy: s.HealthyAllocs,
      unhealthy: s.UnhealthyAllocs,
      desiredTotal: s.DesiredTotal,
      promoted: s.Promoted,
    }));
  return {
    id: d.ID,
    jobVersion: d.JobVersion,
    status: d.Status,
    statusDescription: d.StatusDescription,
    groups,
    waitingForPromotion: d.Status === 'running' && groups.some((g) => g.desiredCanaries > 0 && !g.promoted),
  };
}

function groupsOf(d: NomadDeployment): string {
  return Object.entries(d.TaskGroups)
    .filter(([, s]) => s.DesiredCanaries > 0)
    .map(([g]) => `"${g}"`)
    .sort()
    .join(', ');
}

function short(id: string): string {
  return id.slice(0, 8);
}
