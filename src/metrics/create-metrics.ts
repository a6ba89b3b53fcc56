// The service's Prometheus metrics on a registry the caller owns (no global registry, so tests and several
// services in one process stay apart). Counters are fed by the saga listener and the receiver; gauges read their
// value at scrape time from callbacks, so this module imports no service.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Read at each scrape. A source that throws keeps its gauge's last value and counts a collect error. */
export interface MetricSources {
  /** Deploys waiting in the queue. */
  readonly queueDepth?: () => number | Promise<number>;
  readonly runningDeploys?: () => number | Promise<number>;
  readonly websocketClients?: () => number | Promise<number>;
  /** Commit statuses not yet delivered to their forge. */
  readonly statusOutboxBacklog?: () => number | Promise<number>;
}

export interface NornMetrics {
  readonly registry: Registry;
  /** One webhook delivery answered, by forge and verdict (queued, no-match, ignored, ping, rejected, ...). */
  recordDelivery(forge: string, verdict: string): void;
  /** One deploy ended: succeeded, failed, superseded or interrupted. */
  recordDeployEnd(app: string, outcome: string): void;
  /** One step ended: complete, failed or skipped. */
  observeStep(step: string, status: string, seconds: number): void;
}

/** Steps take from milliseconds (a skip) to many minutes (a build, a rollout). */
const STEP_BUCKETS_SECONDS = [0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200];

export function createMetrics(config: { registry: Registry; sources?: MetricSources; prefix?: string }): NornMetrics {
  const { registry, sources = {} } = config;
  const prefix = config.prefix ?? 'norn_';
  const registers = [registry];
  const deliveries = new Counter({ name: `${prefix}deliveries_total`, help: 'Webhook deliveries answered, by forge and verdict', labelNames: ['forge', 'verdict'], registers });
  const deploys = new Counter({ name: `${prefix}deploys_total`, help: 'Deploys ended, by app and outcome', labelNames: ['app', 'outcome'], registers });
  const steps = new Histogram({ name: `${prefix}step_duration_seconds`, help: 'Pipeline step durations, by step and how it ended', labelNames: ['step', 'status'], buckets: STEP_BUCKETS_SECONDS, registers });
  // A scrape collects every metric at once; the error counter waits for this scrape's gauge reads, so a failed
  // read shows in the same scrape.
  const reads = new Set<Promise<void>>();
  const failedReads: string[] = [];
  const gauge = (name: string, help: string, source: (() => number | Promise<number>) | undefined) => {
    if (!source) return;
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        const read = (async () => this.set(await source()))().catch(() => void failedReads.push(name));
        reads.add(read);
        return read.finally(() => reads.delete(read));
      },
    });
  };
  gauge('deploy_queue_depth', 'Deploys queued and waiting to run', sources.queueDepth);
  gauge('deploys_running', 'Deploys running now', sources.runningDeploys);
  gauge('websocket_clients', 'Clients connected to the live stream (/ws)', sources.websocketClients);
  gauge('status_outbox_backlog', 'Commit statuses waiting to be delivered to their forge', sources.statusOutboxBacklog);
  new Counter({
    name: `${prefix}metrics_collect_errors_total`,
    help: 'Gauge sources that failed at scrape time (the gauge keeps its last value)',
    labelNames: ['gauge'],
    registers,
    async collect() {
      await Promise.all([...reads]);
      for (const name of failedReads.splice(0)) this.inc({ gauge: name });
    },
  });

  return {
    registry,
    recordDelivery: (forge, verdict) => deliveries.inc({ forge, verdict }),
    recordDeployEnd: (app, outcome) => deploys.inc({ app, outcome }),
    observeStep: (step, status, seconds) => steps.observe({ step, status }, seconds),
  };
}
