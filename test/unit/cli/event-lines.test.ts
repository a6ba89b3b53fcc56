// `norn saga` and `norn watch` lines: `HH:MM:SS <icon> <message>`.
import { expect } from 'chai';
import { envelopeLine, sagaEventLine } from '../../../src/cli/event-lines.js';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import type { SagaAction } from '../../../src/events/saga-actions.js';

function event(action: SagaAction, message: string, timestamp = '2026-11-27T09:05:03.120Z'): SagaEvent {
  return { id: 'e', sagaId: 's', seq: 1, timestamp, source: 'pipeline', app: 'shop', category: 'step', action, message, metadata: {} };
}

describe('saga and live lines', () => {
  it('shows the time and an icon per kind of event', () => {
    const lines = [
      event('deploy.queued', 'deploy of shop queued'),
      event('step.start', 'clone started'),
      event('step.complete', 'clone complete', '2026-11-27T23:59:59.999Z'),
      event('step.skipped', 'test skipped: no build.test'),
      event('step.failed', 'build failed: exit 1'),
      event('deploy.interrupted', 'healthy failed: lease lost'),
      event('alloc.progress', 'alloc 1a2b healthy'),
    ].map((e) => sagaEventLine(e, 'UTC'));
    expect(lines).to.deep.equal([
      '09:05:03 · deploy of shop queued',
      '09:05:03 ▶ clone started',
      '23:59:59 ✓ clone complete',
      '09:05:03 · test skipped: no build.test',
      '09:05:03 ✗ build failed: exit 1',
      '09:05:03 ✗ healthy failed: lease lost',
      '09:05:03 · alloc 1a2b healthy',
    ]);
    expect(sagaEventLine(event('step.start', 'x', '2026-11-27T09:05:03Z'), 'Europe/Amsterdam')).to.equal('10:05:03 ▶ x');
  });

  it('names the app and saga on live lines, with step durations and the end of a deploy', () => {
    const at = new Date('2026-11-27T12:00:00Z');
    const sagaId = 'abcdef12-0000-0000-0000-000000000000';
    const line = (type: 'deploy.step' | 'deploy.completed' | 'deploy.failed', payload: Record<string, unknown>) => envelopeLine({ type, appId: 'shop', seq: 3, payload: { sagaId, ...payload } }, at, 'UTC');
    expect(line('deploy.step', { step: 'clone', status: 'complete', durationMs: 1500, message: 'cloned 1234' })).to.equal('12:00:00 shop abcdef12 ✓ cloned 1234 (1.5s)');
    expect(line('deploy.step', { step: 'build', status: 'running', durationMs: null, message: 'build started' })).to.equal('12:00:00 shop abcdef12 ▶ build started');
    expect(line('deploy.completed', { imageTag: 'r/shop:1' })).to.equal('12:00:00 shop abcdef12 ✓ deployed r/shop:1');
    expect(line('deploy.failed', { error: 'superseded by a newer push', reason: 'superseded' })).to.equal('12:00:00 shop abcdef12 ✗ superseded: superseded by a newer push');
  });

  it('puts the prefix on every line of a multi-line message (Docker output), live and in the saga', () => {
    const at = new Date('2026-11-27T12:00:00Z');
    const sagaId = 'abcdef12-0000-0000-0000-000000000000';
    const output = 'Step 2/3 : RUN make\r\n ---> Running in 1a2b\nmake: ok\n';
    expect(envelopeLine({ type: 'deploy.progress', appId: 'shop', seq: 4, payload: { sagaId, step: 'build', message: output } }, at, 'UTC').split('\n')).to.deep.equal([
      '12:00:00 shop abcdef12 · Step 2/3 : RUN make',
      '12:00:00 shop abcdef12 ·  ---> Running in 1a2b',
      '12:00:00 shop abcdef12 · make: ok',
    ]);
    expect(sagaEventLine(event('step.progress', 'line one\nline two'), 'UTC')).to.equal('09:05:03 · line one\n09:05:03 · line two');
  });
});
