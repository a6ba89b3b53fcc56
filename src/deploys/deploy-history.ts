// Reading the deploys table: the API's lists, what runs now, the last good image. Writing it is the lifecycle's
// alone (deploy-lifecycle.ts).
import type { Knex } from 'knex';
import { fromDeployRow, type DeployRecord, type DeployRow, type DeployStatus } from './deploy-record.js';

export class DeployHistory {
  constructor(private readonly deps: { knex: Knex; now?: () => Date }) {}

  async get(id: string): Promise<DeployRecord | undefined> {
    const row = await this.deps.knex<DeployRow>('deploys').where({ id }).first();
    return row ? fromDeployRow(row) : undefined;
  }

  async list(opts: { app?: string; status?: DeployStatus; deliveryId?: string; limit: number }): Promise<DeployRecord[]> {
    const q = this.deps.knex<DeployRow>('deploys').orderBy('queued_seq', 'desc').limit(opts.limit);
    if (opts.app) q.where({ app: opts.app });
    if (opts.status) q.where({ status: opts.status });
    if (opts.deliveryId) q.where({ delivery_id: opts.deliveryId });
    return (await q).map(fromDeployRow);
  }

  /** True while a deploy of `app` runs (a restore must wait for it). */
  async isRunning(app: string): Promise<boolean> {
    return (await this.list({ app, status: 'running', limit: 1 })).length > 0;
  }

  /**
   * The app's newest successful deploy or rollback: what runs now. A preflight (pull request or manual) succeeds
   * too, but its image was built for checking, never run nor pushed; a rollback's image is what runs after it.
   */
  async live(app: string): Promise<DeployRecord | undefined> {
    const row = await this.deps.knex<DeployRow>('deploys').where({ app, status: 'succeeded' }).whereNot({ kind: 'preflight' }).orderBy('queued_seq', 'desc').first();
    return row ? fromDeployRow(row) : undefined;
  }

  /** The image of what runs now (`live`), and what a rollback goes back to. */
  async lastSucceededImage(app: string): Promise<string | undefined> {
    return (await this.live(app))?.imageTag ?? undefined;
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = (await this.deps.knex('deploys').groupBy('status').select('status').count({ n: '*' })) as { status: string; n: number | string }[];
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Running deploys whose lease has run out, or whose owner `isDead` says is gone. */
  async abandoned(isDead: (owner: string) => boolean): Promise<DeployRecord[]> {
    const rows = (await this.deps.knex<DeployRow>('deploys').where({ status: 'running' })).map(fromDeployRow);
    const now = (this.deps.now?.() ?? new Date()).toISOString();
    return rows.filter((d) => !d.leaseOwner || isDead(d.leaseOwner) || (d.leaseExpiresAt ?? '') < now);
  }
}
