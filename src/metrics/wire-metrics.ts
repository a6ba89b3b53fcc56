// Everything the composition root needs for metrics, built in one call: a fresh registry with the service's
// metrics (and Node's process metrics), the /metrics route for createApp's `extraRoutes`, the saga listener for
// SagaLog.subscribe, and recordDelivery for the receiver.
import type { Middleware } from 'koa';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { SagaListener } from '../events/saga-log.js';
import { createMetrics, type MetricSources, type NornMetrics } from './create-metrics.js';
import { metricsListener } from './metrics-listener.js';
import { metricsRoute } from './metrics-route.js';

export interface WiredMetrics {
  readonly metrics: NornMetrics;
  /** Pass in createApp's `extraRoutes`. */
  readonly route: Middleware;
  /** Pass to `sagaLog.subscribe`. */
  readonly onSagaEvents: SagaListener;
  /** Call once per delivery answered. */
  readonly recordDelivery: (forge: string, verdict: string) => void;
}

export function wireMetrics(config: { apiToken?: string; isPublic: boolean; processMetrics?: boolean }, sources: MetricSources): WiredMetrics {
  const registry = new Registry();
  if (config.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'norn_' });
  const metrics = createMetrics({ registry, sources });
  return {
    metrics,
    route: metricsRoute({ registry, apiToken: config.apiToken, isPublic: config.isPublic }),
    onSagaEvents: metricsListener(metrics),
    recordDelivery: (forge, verdict) => metrics.recordDelivery(forge, verdict),
  };
}
