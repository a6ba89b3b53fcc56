// The terminal frame of `norn deploy`: the steps the receiver listed for the run, a spinner on the running one,
// progress under healthy.
import { expect } from 'chai';
import { DeployProgress } from '../../../src/cli/deploy-progress.js';
import { STEP_NAMES } from '../../../src/pipeline/step.js';
import { formatDuration, frameLines, plainLines, SPINNER } from '../../../src/cli/deploy-render.js';
import { SAGA, sagaScript } from '../../fakes/scripted-receiver.js';

function progressAfter(count: number): DeployProgress {
  const script = sagaScript([['clone', 'complete'], ['build', 'complete'], ['test', 'skipped', 'test skipped: no build.test'], ['snapshot', 'complete'], ['migrate', 'complete'], ['submit', 'complete'], ['healthy', 'complete']], { imageTag: 'r/shop:1' });
  const p = new DeployProgress(SAGA, 'deploy', STEP_NAMES);
  for (const e of script.slice(0, count)) p.apply(e, 1_000);
  return p;
}

describe('deploy frame (terminal)', () => {
  it('lists all nine steps, spins on the running one with its elapsed time, and shows allocation progress', () => {
    const p = progressAfter(16); // ... healthy running, its alloc line
    const lines = frameLines('shop', p, { now: 4_500, tick: 3 });
    expect(lines[0]).to.equal(`deploy shop refs/heads/main @ aaaaaaaaaaaa  saga ${SAGA}`);
    expect(lines.slice(1)).to.deep.equal([
      '  ✓ clone     1.2s',
      '  ✓ build     1.2s',
      '  – test      skipped: no build.test',
      '  ✓ snapshot  1.2s',
      '  ✓ migrate   1.2s',
      '  ✓ submit    1.2s',
      `  ${SPINNER[3]} healthy   3.5s`,
      '      alloc 1a2b: running, healthy',
      '  · forge',
      '  · cleanup',
    ]);
  });

  it('marks steps that never ran once the deploy ended, and ends with the outcome', () => {
    const p = progressAfter(100);
    const lines = frameLines('shop', p, { now: 0, tick: 0 });
    expect(lines.slice(-4)).to.deep.equal(['  · forge     not run', '  · cleanup   not run', '✓ deployed in 9.0s', 'image r/shop:1']);
  });

  it('says a deploy that is live but not routed is both, under the outcome', () => {
    const p = progressAfter(100);
    p.apply({ type: 'deploy.completed', appId: 'shop', seq: 999, payload: { sagaId: SAGA, imageTag: 'r/shop:1', durationMs: 9000, notRouted: 'no cloudflared config at /etc/cf.yml (NORN_CLOUDFLARED_CONFIG)' } }, 1_000);
    expect(frameLines('shop', p, { now: 0, tick: 0 }).slice(-3)).to.deep.equal(['✓ deployed in 9.0s', '! live, not routed: no cloudflared config at /etc/cf.yml (NORN_CLOUDFLARED_CONFIG)', 'image r/shop:1']);
  });

  it('says it is waiting while the deploy is queued, and shows a reconnect notice', () => {
    expect(frameLines('shop', progressAfter(1), { now: 0, tick: 0 }).at(-1)).to.equal('waiting in the queue…');
    expect(frameLines('shop', progressAfter(3), { now: 0, tick: 0, notice: 'live stream dropped; resuming' }).at(-1)).to.equal('live stream dropped; resuming');
  });

  it('prints a multi-line error as indented continuation lines', () => {
    const script = sagaScript([['clone', 'failed', 'clone failed: git exited 128: fatal: one\nfatal: two\n']], { failedStep: 'clone', error: 'git exited 128: fatal: one\nfatal: two\n' });
    const p = new DeployProgress(SAGA, 'deploy', STEP_NAMES);
    const lines = script.flatMap((e) => (p.apply(e, 0), plainLines(e, p)));
    expect(lines.slice(-4)).to.deep.equal(['✗ clone     1.2s  git exited 128: fatal: one', '    fatal: two', '✗ failed at clone: git exited 128: fatal: one', '    fatal: two']);
    expect(frameLines('shop', p, { now: 0, tick: 0 }).slice(1, 3)).to.deep.equal(['  ✗ clone     1.2s  git exited 128: fatal: one', '      fatal: two']);
  });

  it('draws the steps the receiver listed for a run, in that order, and no others', () => {
    const p = new DeployProgress(SAGA, 'rollback', ['snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup']);
    // A step the receiver did not list (here `clone`) has no line of its own.
    for (const e of sagaScript([['snapshot', 'skipped', 'snapshot skipped: no --restore-snapshot'], ['clone', 'complete']], {}).slice(0, -1)) p.apply(e, 1_000);
    expect(frameLines('shop', p, { now: 1_000, tick: 0 }).slice(1)).to.deep.equal([
      '  – snapshot  skipped: no --restore-snapshot',
      '  · migrate',
      '  · submit',
      '  · healthy',
      '  · forge',
      '  · cleanup',
    ]);
  });

  it('from a receiver that lists no steps, shows each step once it reports and invents none ahead', () => {
    const p = new DeployProgress(SAGA, 'preflight');
    for (const e of sagaScript([['clone', 'complete'], ['build', 'complete']], {}).slice(0, -1)) p.apply(e, 1_000);
    expect(frameLines('shop', p, { now: 1_000, tick: 0 }).slice(1)).to.deep.equal(['  ✓ clone     1.2s', '  ✓ build     1.2s']);
  });

  it('ignores envelopes of other sagas', () => {
    const p = new DeployProgress(SAGA, 'deploy', STEP_NAMES);
    expect(p.apply({ type: 'deploy.completed', appId: 'shop', seq: 5, payload: { sagaId: 'other' } }, 0)).to.equal(false);
    expect(p.outcome).to.equal('queued');
  });

  it('formats durations for people', () => {
    expect([formatDuration(420), formatDuration(9_949), formatDuration(42_400), formatDuration(125_000)]).to.deep.equal(['0.4s', '9.9s', '42s', '2m05s']);
  });
});
