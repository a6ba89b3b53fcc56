// `norn delivery <id>`: the decision trace answers "why did (or didn't) this deploy?".
import { expect } from 'chai';
import type { DeliveryAnswer } from '../../../src/cli/api-types.js';
import { deliveryRow, deliveryTrace, redeliveryLines } from '../../../src/cli/delivery-render.js';

const answer: DeliveryAnswer = {
  delivery: {
    id: 'd1',
    forge: 'github',
    deliveryId: 'gh-72d3162e',
    event: 'push',
    verdict: 'no-match',
    statusCode: 200,
    reason: 'no app tracks this push',
    trace: {
      signature: 'valid',
      event: 'push',
      ref: 'refs/heads/feature/x',
      commitSha: '0123456789abcdef0123456789abcdef01234567',
      steps: ['push to refs/heads/feature/x'],
      apps: [
        { app: 'shop', matched: false, reason: 'feature/x is not the tracked branch main' },
        { app: 'blog', matched: false, reason: 'repo is example/blog, not example/shop' },
      ],
      invalidSpecs: [{ file: 'apps/api/infraspec.yaml', path: 'processes.web.port', reason: 'expected a number' }],
    },
    repo: 'example/shop',
    ref: 'refs/heads/feature/x',
    commitSha: '0123456789abcdef0123456789abcdef01234567',
    redeliveryOf: null,
    receivedAt: '2026-11-27T09:05:03.120Z',
  },
  deploys: [],
};

describe('delivery rendering', () => {
  it('prints the trace: signature, event, ref, each app considered and why', () => {
    expect(deliveryTrace(answer)).to.deep.equal([
      'delivery d1',
      '  received   2026-11-27T09:05:03.120Z from github (delivery id gh-72d3162e)',
      '  verdict    no-match (HTTP 200): no app tracks this push',
      '  signature  valid',
      '  event      push',
      '  ref        refs/heads/feature/x @ 0123456789ab',
      '  repo       example/shop',
      '  decision',
      '    - push to refs/heads/feature/x',
      '  apps considered',
      '    ✗ shop: feature/x is not the tracked branch main',
      '    ✗ blog: repo is example/blog, not example/shop',
      '    ! apps/api/infraspec.yaml processes.web.port: expected a number (invalid spec, not considered)',
    ]);
  });

  it('prints the spec warnings of the apps a delivery queued', () => {
    const queued: DeliveryAnswer = {
      ...answer,
      delivery: {
        ...answer.delivery,
        verdict: 'queued',
        trace: { ...answer.delivery.trace, invalidSpecs: [], specWarnings: [{ app: 'shop', path: 'snapshot', reason: 'unknown field "snapshot" is ignored (did you mean "snapshots"?)' }] },
      },
    };
    expect(deliveryTrace(queued)).to.include('    warning shop snapshot: unknown field "snapshot" is ignored (did you mean "snapshots"?)');
  });

  it('lists a delivery on one line and says what a redelivery queued', () => {
    expect(deliveryRow(answer.delivery)).to.equal('2026-11-27 09:05:03  · no-match  github  d1  example/shop feature/x  no app tracks this push');
    expect(redeliveryLines({ redeliveryOf: 'd1', deliveryId: 'd2', verdict: 'queued', reason: '1 app matched', deploys: [{ app: 'shop', sagaId: 's9', commitSha: 'f'.repeat(40) }] })).to.deep.equal([
      'redelivered d1 as d2: queued (1 app matched)',
      '  queued shop  saga s9  @ ffffffffffff  (follow: norn saga s9)',
    ]);
  });
});
