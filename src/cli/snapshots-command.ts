// `norn snapshots <app>` (the app's database snapshots, newest first),
// `norn snapshots <app> restore <ts> [--pre-restore] [--yes]` (replace the database's data with one of them, after
// the operator typed the app's name; without --pre-restore the spec's snapshots.preRestore decides), and the verbs
// that make or move a dump (snapshot-transfer.ts): `take`, `export <ts> [-o file]`, `import <file> [--yes]`.
import type { Writable } from 'node:stream';
import { apiCommand, UsageError } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import type { RestoreSnapshotResult, Snapshot } from './ops-api-types.js';
import { exportSnapshotVerb, importSnapshotVerb, takeSnapshotVerb } from './snapshot-transfer.js';
import { restoreAction, restoreLines, snapshotTable } from './snapshots-render.js';

const TS = /^\d{8}T\d{6}Z$/;

const USAGE = [
  'norn snapshots <app>',
  '       norn snapshots <app> restore <ts> [--pre-restore] [--yes]',
  '       norn snapshots <app> take',
  '       norn snapshots <app> export <ts> [-o file|-]',
  '       norn snapshots <app> import <file> [--yes]',
].join('\n');

export function snapshotsCommandWith(deps: { confirmer?: Confirmer; stdout?: Writable } = {}) {
  return apiCommand({
    usage: USAGE,
    options: { 'pre-restore': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, output: { type: 'string', short: 'o' } },
    positionals: { min: 1, max: 3 },
    async run({ api, args, io }) {
      const [app, verb, ts] = args.positionals as [string, string?, string?];
      const path = `/api/apps/${encodeURIComponent(app)}/snapshots`;
      const yes = args.values.yes === true;
      const preRestore = args.values['pre-restore'] === true;
      const output = args.values.output as string | undefined;
      if (output !== undefined && verb !== 'export') throw new UsageError('-o goes with export');
      if (preRestore && verb !== 'restore') throw new UsageError('--pre-restore goes with restore');
      if (yes && verb !== 'restore' && verb !== 'import') throw new UsageError('--yes goes with restore and import');
      if (verb === undefined) {
        const { snapshots } = await api.get<{ snapshots: Snapshot[] }>(path);
        io.out.write(`${snapshotTable(app, snapshots).join('\n')}\n`);
        return 0;
      }
      if (verb === 'take') {
        if (ts !== undefined) throw new UsageError('take takes no argument');
        return takeSnapshotVerb(api, app, io);
      }
      if (verb === 'export') {
        if (ts === undefined || !TS.test(ts)) throw new UsageError(`export needs a snapshot timestamp like 20261127T153000Z (norn snapshots ${app} lists them)`);
        return exportSnapshotVerb(api, app, ts, output, io, deps.stdout ?? process.stdout);
      }
      if (verb === 'import') {
        if (ts === undefined) throw new UsageError('import needs the dump file to upload');
        return importSnapshotVerb(api, app, ts, yes, deps.confirmer ?? terminalConfirmer(), io);
      }
      if (verb !== 'restore' || ts === undefined) throw new UsageError('the actions are restore <ts>, take, export <ts> and import <file>');
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
