// `norn snapshots <app>` (the app's database snapshots, newest first) and
// `norn snapshots <app> restore <ts> [--pre-restore] [--yes]` (replace the database's data with one of them, after
// the operator typed the app's name; without --pre-restore the spec's snapshots.preRestore decides).
import { apiCommand, UsageError } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import type { RestoreSnapshotResult, Snapshot } from './ops-api-types.js';
import { restoreAction, restoreLines, snapshotTable } from './snapshots-render.js';

const TS = /^\d{8}T\d{6}Z$/;

export function snapshotsCommandWith(deps: { confirmer?: Confirmer } = {}) {
  return apiCommand({
    usage: 'norn snapshots <app> | norn snapshots <app> restore <ts> [--pre-restore] [--yes]',
    options: { 'pre-restore': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
    positionals: { min: 1, max: 3 },
    async run({ api, args, io }) {
      const [app, verb, ts] = args.positionals as [string, string?, string?];
      const path = `/api/apps/${encodeURIComponent(app)}/snapshots`;
      const yes = args.values.yes === true;
      const preRestore = args.values['pre-restore'] === true;
      if (verb === undefined) {
        if (yes || preRestore) throw new UsageError('--yes and --pre-restore go with restore');
        const { snapshots } = await api.get<{ snapshots: Snapshot[] }>(path);
        io.out.write(`${snapshotTable(app, snapshots).join('\n')}\n`);
        return 0;
      }
      if (verb !== 'restore' || ts === undefined) throw new UsageError('the only action is restore <ts>');
      if (!TS.test(ts)) throw new UsageError(`${ts} is not a snapshot timestamp like 20261127T153000Z (norn snapshots ${app} lists them)`);

      const confirmer = deps.confirmer ?? terminalConfirmer();
      let snapshot: Snapshot | undefined;
      if (!yes && confirmer.isInteractive) {
        // Show the person what they are about to replace, and stop early on a timestamp that does not exist.
        snapshot = (await api.get<{ snapshots: Snapshot[] }>(path)).snapshots.find((s) => s.ts === ts);
        if (!snapshot) {
          io.err.write(`norn: ${app} has no snapshot ${ts} (norn snapshots ${app} lists them)\n`);
          return 1;
        }
      }
      if (!(await confirmByName({ app, action: restoreAction(app, ts, snapshot, preRestore), yes }, confirmer, io))) return 1;
      io.err.write(`restoring ${app} from snapshot ${ts}…\n`);
      const query = `confirm=true${preRestore ? '&preRestore=true' : ''}`;
      const result = await api.post<RestoreSnapshotResult>(`${path}/${encodeURIComponent(ts)}/restore?${query}`);
      io.out.write(`${restoreLines(app, result).join('\n')}\n`);
      return 0;
    },
  });
}

export const snapshotsCommand = snapshotsCommandWith();
