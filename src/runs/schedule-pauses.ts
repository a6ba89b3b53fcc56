// Which scheduled processes are paused, in the store (`schedule_pauses`), so every receiver sharing it, a restarted
// receiver, the Docker schedule runner and the next Nomad registration all see the same answer.
import type { Knex } from 'knex';

export interface SchedulePause {
  readonly app: string;
  readonly process: string;
  readonly sagaId: string;
  /** ISO 8601. */
  readonly pausedAt: string;
}

interface PauseRow {
  app: string;
  process: string;
  saga_id: string;
  paused_at: string;
}

export class SchedulePauses {
  constructor(private readonly deps: { knex: Knex }) {}

  /** Pauses `process` of `app`; false when it was paused already (the earlier pause is kept). */
  async pause(app: string, process: string, by: { sagaId: string; at: Date }): Promise<boolean> {
    if (await this.find(app, process)) return false;
    await this.deps.knex('schedule_pauses').insert({ app, process, saga_id: by.sagaId, paused_at: by.at.toISOString() }).onConflict(['app', 'process']).ignore();
    // Another receiver may have paused it between the two statements: then its pause is the one kept.
    return (await this.find(app, process))?.sagaId === by.sagaId;
  }

  /** Resumes `process` of `app`; false when it was not paused. */
  async resume(app: string, process: string): Promise<boolean> {
    return (await this.deps.knex('schedule_pauses').where({ app, process }).delete()) > 0;
  }

  async find(app: string, process: string): Promise<SchedulePause | undefined> {
    const row = await this.deps.knex<PauseRow>('schedule_pauses').where({ app, process }).first();
    return row ? fromRow(row) : undefined;
  }

  /** The app's paused processes, by name. */
  async ofApp(app: string): Promise<Map<string, SchedulePause>> {
    const rows = await this.deps.knex<PauseRow>('schedule_pauses').where({ app });
    return new Map(rows.map((r) => [r.process, fromRow(r)]));
  }
}

function fromRow(r: PauseRow): SchedulePause {
  return { app: r.app, process: r.process, sagaId: r.saga_id, pausedAt: r.paused_at };
}
