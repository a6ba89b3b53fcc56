// What `norn rollback <app> [--to <saga|image>] [--restore-snapshot]` would do, decided before anything is queued:
// which version runs now, which earlier one comes back, whether that image still exists, and what the database
// went through since that version ran (migrations, and the snapshot taken before them).
//
// "The previous deploy" is Norn's: the successful deploy before the one now current. When what runs is itself a
// rollback, the deploy now current is the one it brought back, so a second rollback goes one further back instead
// of returning to the version just rolled away from (`--to` picks any earlier one).
//
// Migrations: every deploy since the target that applied migrations (or ran a migration command) changed the
// database; a snapshot restore since then undoes the ones after the restored snapshot. With exactly one such deploy
// left, the snapshot its snapshot step took is the database as the target last saw it, and it is offered. With more
// than one, a later migration ran on top of that snapshot: restoring it would undo more than the operator was
// told, so no snapshot is offered and `--restore-snapshot` is refused (409) with what ran.
import { InvalidInputError } from '../errors.js';
import { changesWhatRuns } from '../events/deploy-queued.js';
import type { SagaEvent } from '../events/saga-event.js';
import { ROLLBACK_PLANNED } from '../pipeline/rollback-order.js';
import { restoreCommand } from '../snapshots/restore-command.js';
import type { Snapshot, SnapshotRestore } from '../snapshots/snapshot-store.js';
import type { DeployRecord } from './deploy-record.js';
import type { ImagePresence } from './image-presence.js';

/** How many of an app's most recent deploys a rollback looks back through. */
const HISTORY_LIMIT = 500;

export interface RollbackRequest {
  readonly app: string;
  /** A saga id (or a unique prefix of 8+ characters) or an image the app deployed. */
  readonly to?: unknown;
  readonly restoreSnapshot: boolean;
}

export interface DeployedVersion {
  readonly sagaId: string;
  readonly kind: string;
  readonly image: string;
  readonly commitSha: string;
  readonly ref: string;
  readonly deployedAt: string;
}

export interface SnapshotRef {
  readonly ts: string;
  readonly path: string;
  readonly database: string;
  readonly createdAt: string;
  /** The deploy whose snapshot step took it. */
  readonly sagaId: string;
}

export interface MigrationRun {
  readonly sagaId: string;
  readonly commitSha: string;
  /** The deploy's own outcome: a deploy can migrate and then fail its health gate. */
  readonly status: string;
  readonly files: readonly string[];
  readonly command: string | null;
  /** The snapshot taken before these migrations, when one was (and is still kept). */
  readonly snapshot: SnapshotRef | null;
}

export interface DatabasePlan {
  /** Some migration ran since the target version last ran (or a restore makes it impossible to tell). */
  readonly migrated: boolean;
  /** The deploys whose migrations are still in the database, oldest first. */
  readonly runs: readonly MigrationRun[];
  /** The snapshot `--restore-snapshot` restores, when offered. */
  readonly snapshot: SnapshotRef | null;
  readonly restorable: boolean;
  /** In words: what happened to the database, and what a restore would do or why none is offered. */
  readonly summary: string;
  /** `norn snapshots <app> restore <ts> --yes`, for the snapshot that matters, when it still exists. */
  readonly restoreCommand: string | null;
}

export interface RollbackPlan {
  readonly app: string;
  readonly current: DeployedVersion;
  readonly target: DeployedVersion;
  /** The deploy whose version comes back (the target itself, or the deploy a rollback target brought back). */
  readonly restoresSagaId: string;
  readonly database: DatabasePlan;
  readonly restoreSnapshot: boolean;
  readonly image: ImagePresence;
  /** A deploy of the app that is running or queued now: the rollback waits for it (a newer push supersedes it). */
  readonly waitsFor: { readonly sagaId: string; readonly kind: string; readonly status: string } | null;
}

export interface RollbackPlanDeps {
  /** The app's deploys, newest first. */
  history(app: string, limit: number): Promise<DeployRecord[]>;
  events(sagaId: string): Promise<readonly SagaEvent[]>;
  /** The app's snapshots, deleted ones included (a restore names the snapshot by id). */
  snapshots(app: string): Promise<readonly Snapshot[]>;
  restores(app: string): Promise<readonly SnapshotRestore[]>;
  checkImage(image: string, app: string): Promise<ImagePresence>;
}

export class RollbackPlanner {
  constructor(private readonly deps: RollbackPlanDeps) {}

  /** The plan, or an InvalidInputError naming the field (`to`, `restoreSnapshot`, `app`) and what to do. */
  async plan(req: RollbackRequest): Promise<RollbackPlan> {
    const to = parseTo(req.to);
    const history = await this.deps.history(req.app, HISTORY_LIMIT);
    const live = history.filter((d) => d.status === 'succeeded' && changesWhatRuns(d.kind) && d.imageTag);
    const current = live[0];
    if (!current) throw new InvalidInputError('app', `${req.app} has no successful deploy yet: there is nothing to roll back from`, 409);
    const currentOrigin = await this.originOf(current, history);

    const target = to === undefined ? this.previous(req.app, history, live, currentOrigin, current) : this.chosen(req.app, history, live, to);
    if (target.imageTag === current.imageTag) {
      throw new InvalidInputError('to', `${target.imageTag} is what ${req.app} runs now (saga ${current.id}); name an earlier deploy with --to <saga|image>`, 409);
    }
    const targetOrigin = await this.originOf(target, history);
    const database = await this.database(req.app, history, targetOrigin);
    if (req.restoreSnapshot && !database.restorable) throw new InvalidInputError('restoreSnapshot', database.summary, 409);

    const image = await this.deps.checkImage(target.imageTag!, req.app);
    if (image.status === 'missing') {
      const where = image.registry ? `it is neither on the Docker engine nor in the registry ${image.registry}` : 'it is not on the Docker engine and was never pushed to a registry';
      throw new InvalidInputError('to', `the image ${target.imageTag} of saga ${target.id} no longer exists: ${where} (removed or pruned); pick another deploy with --to <saga|image>`, 409);
    }
    const busy = history.find((d) => changesWhatRuns(d.kind) && (d.status === 'running' || d.status === 'queued'));
    return {
      app: req.app,
      current: version(current),
      target: version(target),
      restoresSagaId: targetOrigin.id,
      database,
      restoreSnapshot: req.restoreSnapshot,
      image,
      waitsFor: busy ? { sagaId: busy.id, kind: busy.kind, status: busy.status } : null,
    };
  }

  /** The successful deploy before the one now current, with another image. */
  private previous(app: string, history: DeployRecord[], live: DeployRecord[], currentOrigin: DeployRecord, current: DeployRecord): DeployRecord {
    const from = Math.max(history.indexOf(currentOrigin), history.indexOf(current));
    const earlier = live.find((d) => d.kind === 'deploy' && history.indexOf(d) > from && d.imageTag !== current.imageTag);
    if (!earlier) {
      throw new InvalidInputError('to', `no successful deploy of ${app} before saga ${currentOrigin.id} ran another image than ${current.imageTag}; name one with --to <saga|image>`, 409);
    }
    return earlier;
  }

  private chosen(app: string, history: DeployRecord[], live: DeployRecord[], to: string): DeployRecord {
    if (SAGA_PREFIX.test(to)) {
      const matches = history.filter((d) => d.id === to || d.id.startsWith(to));
      if (matches.length > 1) throw new InvalidInputError('to', `${to} names ${matches.length} sagas of ${app}; give more of the id`);
      const saga = matches[0];
      if (saga) {
        if (saga.kind === 'preflight') throw new InvalidInputError('to', `saga ${saga.id} is a pull request's preflight: its image never ran`);
        if (saga.status !== 'succeeded' || !saga.imageTag) {
          throw new InvalidInputError('to', `saga ${saga.id} did not deploy ${app} (it ${saga.status === 'succeeded' ? 'recorded no image' : `is ${saga.status}`}); only a successful deploy can be rolled back to`);
        }
        return saga;
      }
    }
    const byImage = live.find((d) => d.imageTag === to);
    if (!byImage) {
      throw new InvalidInputError('to', `${to} is neither a saga nor an image that ${app} deployed successfully (norn status ${app} lists its deploys); a rollback only runs an image this app ran before`);
    }
    return byImage;
  }

  /** A rollback's version came from an earlier deploy: that one is where its database history starts. */
  private async originOf(d: DeployRecord, history: DeployRecord[]): Promise<DeployRecord> {
    if (d.kind !== 'rollback') return d;
    const planned = (await this.deps.events(d.id)).find((e) => e.action === ROLLBACK_PLANNED);
    const id = planned?.metadata.restoresSagaId;
    return history.find((h) => h.id === id) ?? d;
  }

  private async database(app: string, history: DeployRecord[], targetOrigin: DeployRecord): Promise<DatabasePlan> {
    const since = history.slice(0, Math.max(0, history.indexOf(targetOrigin))).filter((d) => d.kind === 'deploy').reverse();
    const [snapshots, restores] = await Promise.all([this.deps.snapshots(app), this.deps.restores(app)]);
    const startOf = (d: DeployRecord) => d.startedAt ?? d.createdAt;
    type Moment = { at: string; run?: MigrationRun; restored?: Snapshot };
    const moments: Moment[] = [];
    for (const d of since) {
      const run = await this.migrationRun(d, snapshots);
      if (run) moments.push({ at: startOf(d), run });
    }
    const targetStart = startOf(targetOrigin);
    for (const r of restores) {
      const restored = snapshots.find((s) => s.id === r.snapshotId);
      if (r.status === 'succeeded' && r.startedAt > targetStart && restored) moments.push({ at: r.startedAt, restored });
    }
    moments.sort((a, b) => a.at.localeCompare(b.at));

    // Replay: a restore undoes the migrations of the deploy that took its snapshot and of every deploy after it.
    let runs: MigrationRun[] = [];
    let unknown: string | undefined;
    for (const m of moments) {
      if (m.run) runs.push(m.run);
      else if (m.restored) {
        const at = runs.findIndex((r) => r.sagaId === m.restored!.sagaId);
        if (at >= 0) runs = runs.slice(0, at);
        else unknown = `snapshot ${m.restored.ts} was restored at ${m.at}, and Norn cannot tell which migrations the database holds since`;
      }
    }
    const target = `saga ${targetOrigin.id}`;
    if (unknown) return { migrated: true, runs, snapshot: null, restorable: false, summary: `${unknown}: no snapshot is offered (restore one by hand with norn snapshots ${app} restore <ts> --yes)`, restoreCommand: null };
    if (runs.length === 0) return { migrated: false, runs, snapshot: null, restorable: false, summary: `no migration ran since ${target}: the database needs no restore`, restoreCommand: null };
    const first = runs[0]!;
    const what = (r: MigrationRun) => `saga ${r.sagaId} (${r.status}) ${r.files.length > 0 ? `applied ${r.files.join(', ')}` : `ran the migration command ${JSON.stringify(r.command)}`}`;
    if (!first.snapshot) {
      return { migrated: true, runs, snapshot: null, restorable: false, summary: `${runs.map(what).join('; ')} since ${target}, and the snapshot taken before them is no longer kept (or none was taken): no snapshot to offer`, restoreCommand: null };
    }
    const command = restoreCommand(app, first.snapshot.ts);
    if (runs.length > 1) {
      return {
        migrated: true,
        runs,
        snapshot: null,
        restorable: false,
        summary: `later migrations ran on top of snapshot ${first.snapshot.ts} (taken before the migrations of saga ${first.sagaId}): ${runs.slice(1).map(what).join('; ')}; restoring it would undo those too, so Norn does not guess. To restore it anyway: ${command}, then roll back without --restore-snapshot`,
        restoreCommand: command,
      };
    }
    return {
      migrated: true,
      runs,
      snapshot: first.snapshot,
      restorable: true,
      summary: `${what(first)} since ${target}; snapshot ${first.snapshot.ts} was taken just before (--restore-snapshot restores it, losing what was written since ${first.snapshot.createdAt})`,
      restoreCommand: command,
    };
  }

  private async migrationRun(d: DeployRecord, snapshots: readonly Snapshot[]): Promise<MigrationRun | undefined> {
    const events = await this.deps.events(d.id);
    const files = events.filter((e) => e.action === 'migration.applied' && typeof e.metadata.file === 'string').map((e) => String(e.metadata.file));
    const commandEvent = events.find((e) => e.action === 'migration.command');
    const command = typeof commandEvent?.metadata.command === 'string' ? commandEvent.metadata.command : null;
    if (files.length === 0 && !command) return undefined;
    const taken = events.find((e) => e.action === 'snapshot.created');
    const kept = snapshots.find((s) => s.sagaId === d.id && s.kind === 'deploy' && s.ts === taken?.metadata.ts && !s.deletedAt);
    return {
      sagaId: d.id,
      commitSha: d.commitSha,
      status: d.status,
      files,
      command,
      snapshot: kept ? { ts: kept.ts, path: kept.path, database: kept.database, createdAt: kept.createdAt, sagaId: d.id } : null,
    };
  }
}

/** A saga id or the start of one: hex and dashes, 8 to 36 characters. */
const SAGA_PREFIX = /^[0-9a-f-]{8,36}$/i;

function parseTo(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > 512 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new InvalidInputError('to', 'must be a saga id or an image reference (printable, no spaces, at most 512 characters)');
  }
  return raw;
}

function version(d: DeployRecord): DeployedVersion {
  return { sagaId: d.id, kind: d.kind, image: d.imageTag!, commitSha: d.commitSha, ref: d.ref, deployedAt: d.finishedAt ?? d.createdAt };
}
