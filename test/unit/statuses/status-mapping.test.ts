import { expect } from 'chai';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import { statusContext, trimDescription } from '../../../src/statuses/commit-status.js';
import { statusForEvent } from '../../../src/statuses/status-mapping.js';
import type { SagaAction } from '../../../src/events/saga-actions.js';

function event(action: SagaAction, metadata: Record<string, unknown> = {}, message = ''): SagaEvent {
  return { id: 'e', sagaId: 's', seq: 1, timestamp: '2026-01-01T00:00:00.000Z', source: 'pipeline', app: 'shop', category: 'x', action, message, metadata };
}

describe('status mapping', () => {
  const rows: [string, SagaEvent, { state: string; description: string } | undefined][] = [
    ['queued is pending', event('deploy.queued'), { state: 'pending', description: 'queued' }],
    ['a step start names the step and its position', event('step.start', { step: 'build', index: 2, total: 9 }), { state: 'running', description: 'build 2/9' }],
    ['success says how long it took', event('deploy.complete', { durationMs: 12_345 }), { state: 'success', description: 'deployed in 12.3s' }],
    ['live but not routed says so, and why', event('deploy.complete', { durationMs: 12_345, notRouted: 'no cloudflared config at /etc/cloudflared/config.yml (NORN_CLOUDFLARED_CONFIG)' }), { state: 'success', description: 'live, not routed: no cloudflared config at /etc/cloudflared/config.yml (NORN_CLOUDFLARED_CONFIG)' }],
    ['failure names the failed step', event('deploy.failed', { step: 'migrate' }, 'migrate failed: relation exists'), { state: 'failure', description: 'migrate failed: relation exists' }],
    ['failure prefixes the step when the message lacks it', event('deploy.failed', { step: 'test' }, 'exit 1'), { state: 'failure', description: 'test: exit 1' }],
    ['superseded is error', event('deploy.superseded'), { state: 'error', description: 'superseded by a newer push' }],
    ['interrupted is error naming the step', event('deploy.interrupted', { step: 'healthy' }), { state: 'error', description: 'interrupted during healthy' }],
    ['progress lines are no status', event('step.progress', { step: 'build' }), undefined],
    ['a step completing is no status', event('step.complete', { step: 'build' }), undefined],
    ['the outbox\'s own events are no status', event('status.reported', { state: 'success' }), undefined],
    ['nor are its failures', event('status.failed'), undefined],
  ];
  for (const [name, e, expected] of rows) {
    it(name, () => expect(statusForEvent(e, 'deploy')).to.deep.equal(expected));
  }

  it('a preflight success says the preflight passed, under its own context', () => {
    expect(statusForEvent(event('deploy.complete', { durationMs: 1000 }), 'preflight')?.description).to.equal('preflight passed in 1.0s');
    expect(statusContext('preflight', 'shop')).to.equal('norn/preflight/shop');
    expect(statusContext('deploy', 'shop')).to.equal('norn/deploy/shop');
  });

  it('trims descriptions to a forge limit in characters, marking the cut', () => {
    const long = 'é'.repeat(200);
    const trimmed = trimDescription(long, 140);
    expect(Array.from(trimmed)).to.have.length(140);
    expect(trimmed.endsWith('…')).to.equal(true);
    expect(trimDescription('build\n2/9', 140)).to.equal('build 2/9');
  });
});
