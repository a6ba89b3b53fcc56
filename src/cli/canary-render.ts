// What `norn canary <app>` prints: the latest deployment, its canaries per process, and what the operator can do.
// Pure: the API's answer in, lines out.
import { textTable } from './text-table.js';

/** `GET /api/apps/:app/canary`'s `deployment`. */
export interface CanaryDeployment {
  readonly id: string;
  readonly jobVersion: number;
  readonly status: string;
  readonly statusDescription: string;
  readonly groups: readonly {
    readonly group: string;
    readonly desiredCanaries: number;
    readonly placedCanaries: number;
    readonly healthy: number;
    readonly unhealthy: number;
    readonly promoted: boolean;
  }[];
  readonly waitingForPromotion: boolean;
}

export interface CanaryAnswer {
  readonly app: string;
  readonly runtime: string;
  readonly deployment: CanaryDeployment | null;
  readonly deploy: { readonly sagaId: string; readonly commitSha: string; readonly promoteAt: string | null } | null;
}

export interface CanaryDecisionAnswer {
  readonly app: string;
  readonly sagaId: string;
  readonly deploymentId: string;
  readonly message: string;
  readonly deploySagaId: string | null;
}

export function canaryLines(answer: CanaryAnswer): string[] {
  const d = answer.deployment;
  if (!d) return [`${answer.app} has no deployment on ${answer.runtime} yet`];
  const lines = [`${answer.app}  deployment ${d.id.slice(0, 8)}  job version ${d.jobVersion}  ${d.status}${d.statusDescription ? `: ${d.statusDescription}` : ''}`];
  const withCanaries = d.groups.filter((g) => g.desiredCanaries > 0);
  if (withCanaries.length === 0) {
    lines.push('no canaries in this deployment');
    return lines;
  }
  const rows = withCanaries.map((g) => [g.group, `${g.placedCanaries}/${g.desiredCanaries}`, String(g.healthy), String(g.unhealthy), g.promoted ? 'yes' : 'no']);
  lines.push('', ...textTable(['process', 'canaries', 'healthy', 'unhealthy', 'promoted'], rows).map((l) => `  ${l}`), '');
  if (d.waitingForPromotion) {
    const healthy = withCanaries.every((g) => g.promoted || g.healthy >= g.desiredCanaries);
    lines.push(healthy ? 'waiting for promotion' : 'waiting for the canaries to be healthy');
    if (answer.deploy?.promoteAt) lines.push(`the deploy (saga ${answer.deploy.sagaId}) promotes them itself at ${answer.deploy.promoteAt} unless you decide first`);
    else if (answer.deploy) lines.push(`the deploy (saga ${answer.deploy.sagaId}) is waiting in its health gate`);
    lines.push(`promote: norn promote ${answer.app}    fail: norn canary fail ${answer.app}`);
  }
  return lines;
}

export function decisionLines(answer: CanaryDecisionAnswer): string[] {
  const follow = answer.deploySagaId ? [`the deploy goes on in saga ${answer.deploySagaId} (norn saga ${answer.deploySagaId})`] : [];
  return [answer.message, `recorded as saga ${answer.sagaId}`, ...follow];
}
