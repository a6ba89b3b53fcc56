// When routing fails, the new instances go and the old ones serve again; on Docker, after a migration, the error
// and the saga say how to undo that deploy's migrations.
import { expect } from 'chai';
import { StepFailedError } from '../../../../src/errors.js';
import type { Runtime, RuntimeSource } from '../../../../src/pipeline/runtime.js';
import type { Step, StepContext, StepOutputs } from '../../../../src/pipeline/step.js';
import { forgeThenRetire } from '../../../../src/pipeline/steps/runtime-steps.js';

const brokenForge: Step = {
  name: 'forge',
  run: async () => {
    throw new StepFailedError('forge', 'cloudflared config is not valid YAML', { configPath: '/etc/cloudflared/config.yml' });
  },
};

function source(name: 'docker' | 'nomad', discarded: string[]): RuntimeSource {
  const runtime = { name, discard: async (ctx: StepContext) => void discarded.push(ctx.sagaId) } as unknown as Runtime;
  return { require: async () => runtime, current: async () => runtime };
}

function context(outputs: StepOutputs) {
  const reports: { message: string; metadata?: Record<string, unknown> }[] = [];
  const ctx: StepContext = { sagaId: 's1', app: 'shop', spec: {} as StepContext['spec'], specDir: '', ref: '', commitSha: '', cloneUrl: '', signal: new AbortController().signal, outputs, report: (message, progress) => reports.push({ message, metadata: progress && { action: progress.action, ...progress.metadata } }) };
  return { ctx, reports };
}

const migrated: StepOutputs = { migrationsApplied: ['0002_notes.sql'], snapshot: { path: '/snap/x.dump', takenAt: '2026-12-07T00:10:00.000Z' }, snapshotTs: '20261207T001000Z' };

describe('forge, then retire or discard', () => {
  it('on Docker after a migration, leads the error with the restore command and records deploy.rollback', async () => {
    const discarded: string[] = [];
    const { ctx, reports } = context(migrated);
    const err = (await forgeThenRetire(brokenForge, source('docker', discarded)).run(ctx).catch((e: unknown) => e)) as StepFailedError;
    expect(discarded).to.deep.equal(['s1']);
    expect(err.message).to.equal("the database keeps this deploy's migrations: `norn snapshots shop restore 20261207T001000Z --yes` restores the snapshot taken before them; cloudflared config is not valid YAML");
    expect(err.detail).to.include({ configPath: '/etc/cloudflared/config.yml', restoreCommand: 'norn snapshots shop restore 20261207T001000Z --yes' });
    expect(reports.map((r) => r.metadata?.action)).to.deep.equal(['deploy.rollback']);
  });

  it('keeps the error as it is without a migration, or on Nomad where the new version stays', async () => {
    for (const [name, outputs] of [['docker', {}], ['nomad', migrated]] as const) {
      const { ctx, reports } = context(outputs);
      const err = (await forgeThenRetire(brokenForge, source(name, [])).run(ctx).catch((e: unknown) => e)) as Error;
      expect(err.message, name).to.equal('cloudflared config is not valid YAML');
      expect(reports, name).to.deep.equal([]);
    }
  });
});
