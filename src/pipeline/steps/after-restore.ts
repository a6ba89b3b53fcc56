// A rollback that restored the pre-migrate snapshot and then failed to go live leaves the database restored while
// the version it meant to replace keeps (or goes back to) serving: that version expects the migrations the restore
// undid. Its error must say so, and how to put the data back: the safety snapshot taken just before the restore.
import { errorMessage, StepFailedError } from '../../errors.js';
import { restoreCommand } from '../../snapshots/restore-command.js';
import type { Step } from '../step.js';

export function failingAfterRestore(step: Step): Step {
  return {
    name: step.name,
    async run(ctx) {
      try {
        return await step.run(ctx);
      } catch (err) {
        const restored = ctx.outputs.restoredSnapshotTs;
        if (typeof restored !== 'string') throw err;
        const safety = typeof ctx.outputs.safetySnapshotTs === 'string' ? ctx.outputs.safetySnapshotTs : undefined;
        const undo = safety ? `: \`${restoreCommand(ctx.app, safety)}\` puts back the data from before it` : '';
        const detail = err instanceof StepFailedError ? err.detail : undefined;
        throw new StepFailedError(
          step.name,
          `the database was restored to snapshot ${restored} before this failed, and the version still serving expects the migrations it undid${undo}; ${errorMessage(err)}`,
          { ...detail, restoredSnapshotTs: restored, safetySnapshotTs: safety ?? null, ...(safety ? { restoreCommand: restoreCommand(ctx.app, safety) } : {}) },
          { cause: err },
        );
      }
    },
  };
}
