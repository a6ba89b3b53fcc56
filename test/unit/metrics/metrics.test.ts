// The metrics a Prometheus scrape shows, fed from saga events and deliveries; gauges read at scrape time.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/metrics/create-metrics.js';
import { metricsListener } from '../../../src/metrics/metrics-listener.js';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import type { SagaAction } from '../../../src/events/saga-actions.js';

/** The value of one sample line `name{labels} value` in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let seq = 0;
function event(action: SagaAction, metadata: Record<string, unknown> = {}, app = 'shop'): SagaEvent {
  seq += 1;
  return { id: `e${seq}`, sagaId: 's', seq, timestamp: '2026-11-27T00:00:00Z', source: 'pipeline', app, category: 'step', action, message: action, metadata };
}

describe('metrics', () => {
  it('counts deploys by app and outcome and observes step durations from saga events', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry });
    const listen = metricsListener(metrics);
    listen([event('deploy.queued'), event('step.start', { step: 'clone' }), event('step.complete', { step: 'clone', durationMs: 1500 })]);
    listen([event('step.skipped', { step: 'test', durationMs: 2 }), event('step.failed', { step: 'build', durationMs: 40_000 }), event('deploy.failed', { step: 'build' })]);
    listen([event('deploy.complete', {}, 'blog'), event('deploy.superseded', {}, 'blog'), event('deploy.interrupted', {}, 'blog')]);
    const text = await registry.metrics();
    expect(sample(text, 'norn_deploys_total{app="shop",outcome="failed"}')).to.equal(1);
    expect(sample(text, 'norn_deploys_total{app="blog",outcome="succeeded"}')).to.equal(1);
    expect(sample(text, 'norn_deploys_total{app="blog",outcome="superseded"}')).to.equal(1);
    expect(sample(text, 'norn_deploys_total{app="blog",outcome="interrupted"}')).to.equal(1);
    expect(sample(text, 'norn_step_duration_seconds_count{step="clone",status="complete"}')).to.equal(1);
    expect(sample(text, 'norn_step_duration_seconds_sum{step="clone",status="complete"}')).to.equal(1.5);
    expect(sample(text, 'norn_step_duration_seconds_bucket{le="1",step="clone",status="complete"}')).to.equal(0);
    expect(sample(text, 'norn_step_duration_seconds_bucket{le="2.5",step="clone",status="complete"}')).to.equal(1);
    expect(sample(text, 'norn_step_duration_seconds_count{step="test",status="skipped"}')).to.equal(1);
    expect(sample(text, 'norn_step_duration_seconds_count{step="build",status="failed"}')).to.equal(1);
    expect(text, 'a step start is not an ended step').not.to.contain('status="running"');
  });

  it('counts deliveries by forge and verdict', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry });
    metrics.recordDelivery('github', 'queued');
    metrics.recordDelivery('github', 'queued');
    metrics.recordDelivery('gitea', 'rejected');
    const text = await registry.metrics();
    expect(sample(text, 'norn_deliveries_total{forge="github",verdict="queued"}')).to.equal(2);
    expect(sample(text, 'norn_deliveries_total{forge="gitea",verdict="rejected"}')).to.equal(1);
  });

  it('reads gauges at scrape time, and keeps the last value when a source fails', async () => {
    const registry = new Registry();
    let depth = 3;
    let broken = false;
    createMetrics({
      registry,
      sources: {
        queueDepth: async () => {
          if (broken) throw new Error('database is down');
          return depth;
        },
        runningDeploys: () => 1,
        websocketClients: () => 2,
        statusOutboxBacklog: async () => 7,
      },
    });
    let text = await registry.metrics();
    expect([sample(text, 'norn_deploy_queue_depth'), sample(text, 'norn_deploys_running'), sample(text, 'norn_websocket_clients'), sample(text, 'norn_status_outbox_backlog')]).to.deep.equal([3, 1, 2, 7]);
    depth = 5;
    expect(sample(await registry.metrics(), 'norn_deploy_queue_depth')).to.equal(5);
    broken = true;
    text = await registry.metrics();
    expect(sample(text, 'norn_deploy_queue_depth')).to.equal(5);
    expect(sample(text, 'norn_metrics_collect_errors_total{gauge="deploy_queue_depth"}')).to.equal(1);
  });
});
