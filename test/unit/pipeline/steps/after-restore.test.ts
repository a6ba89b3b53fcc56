// A rollback step failing after the restore says the database was restored and how to put the data back.
import { expect } from 'chai';
import { StepFailedError } from '../../../../src/errors.js';
import { failingAfterRestore } from '../../../../src/pipeline/steps/after-restore.js';
import type { Step, StepContext, StepOutputs } from '../../../../src/pipeline/step.js';

const failing: Step = {
  name: 'healthy',
  run: async () => {
    throw new StepFailedError('healthy', 'web (web): not healthy for 10s within 60s', { instance: 'c1' });
  },
};

function ctx(outputs: StepOutputs): StepContext {
  return { sagaId: 's', app: 'shop', spec: {} as StepContext['spec'], specDir: '', ref: '', commitSha: '', cloneUrl: '', signal: new AbortController().signal, outputs, report: () => undefined };
}

describe('a rollback step failing after the restore', () => {
  it('names the restored snapshot and the command that restores the safety snapshot, keeping the step\'s own error', async () => {
    const err = await failingAfterRestore(failing).run(ctx({ restoredSnapshotTs: '20261207T001000Z', safetySnapshotTs: '20261207T002000Z' })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    const e = err as StepFailedError;
    expect(e.step).to.equal('healthy');
    expect(e.message).to.match(/^the database was restored to snapshot 20261207T001000Z before this failed/);
    expect(e.message).to.contain('`norn snapshots shop restore 20261207T002000Z --yes` puts back the data from before it').and.contain('web (web): not healthy');
    expect(e.detail).to.include({ instance: 'c1', restoredSnapshotTs: '20261207T001000Z', restoreCommand: 'norn snapshots shop restore 20261207T002000Z --yes' });
  });

  it('passes the error through untouched when nothing was restored', async () => {
    const err = await failingAfterRestore(failing).run(ctx({})).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('web (web): not healthy for 10s within 60s');
  });
});
