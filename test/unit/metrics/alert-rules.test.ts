// The alerting rules shipped in config/prometheus-alerts.yml name only series the receiver really exposes: after
// the things the rules watch for have happened (a rejected delivery, a failed and an interrupted deploy, a step,
// a gauge that could not be read), every norn_* metric and every label value a rule matches on is in a scrape.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import YAML from 'yaml';
import type { SagaEvent } from '../../../src/events/saga-event.js';
import { wireMetrics } from '../../../src/metrics/wire-metrics.js';
import type { SagaAction } from '../../../src/events/saga-actions.js';

const rulesFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../config/prometheus-alerts.yml');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const event = (action: SagaAction, metadata: Record<string, unknown> = {}): SagaEvent => ({
  id: action,
  sagaId: 's',
  seq: 1,
  timestamp: '2026-01-01T00:00:00Z',
  source: 'test',
  app: 'shop',
  category: 'deploy',
  action,
  message: action,
  metadata,
});

/** norn_* metric names in a PromQL expression, with the label matchers written on each. */
function selectors(expr: string): { metric: string; labels: [string, string][] }[] {
  return [...expr.matchAll(/\b(norn_[a-z0-9_]+)(?:\{([^}]*)\})?/g)].map((m) => ({
    metric: m[1]!,
    labels: [...(m[2] ?? '').matchAll(/([a-z_]+)\s*=\s*"([^"]*)"/g)].map((l) => [l[1]!, l[2]!] as [string, string]),
  }));
}

describe('config/prometheus-alerts.yml', () => {
  const doc = YAML.parse(fs.readFileSync(rulesFile, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('is a rules file Prometheus can load: named groups, alerts with an expression, a severity and a summary', () => {
    expect(rules.length).to.be.greaterThan(0);
    for (const g of doc.groups) expect(g.name).to.be.a('string');
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size, 'alert names are unique').to.equal(names.length);
    for (const r of rules) {
      expect(r.expr, r.alert).to.be.a('string').and.not.equal('');
      expect(r.labels?.severity, r.alert).to.be.oneOf(['page', 'ticket']);
      expect(r.annotations?.summary, r.alert).to.be.a('string');
      if (r.for !== undefined) expect(r.for, r.alert).to.match(/^\d+[smh]$/);
    }
  });

  it('uses only metrics and label values the receiver exposes', async () => {
    const wired = wireMetrics(
      { isPublic: true },
      {
        queueDepth: () => 0,
        runningDeploys: () => 0,
        websocketClients: () => 0,
        statusOutboxBacklog: () => Promise.reject(new Error('database down')),
      },
    );
    wired.recordDelivery('github', 'rejected');
    wired.onSagaEvents([
      event('step.complete', { step: 'build', durationMs: 1200 }),
      event('deploy.failed'),
      event('deploy.interrupted'),
    ]);
    await wired.metrics.registry.metrics(); // the first scrape finds the failing gauge source
    const scrape = await wired.metrics.registry.metrics();
    const series = scrape.split('\n').filter((l) => l.startsWith('norn_'));
    const declared = new Set([...scrape.matchAll(/^# TYPE (norn_[a-z0-9_]+) (\w+)$/gm)].flatMap((m) => (m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]!])));

    const used = rules.flatMap((r) => selectors(r.expr).map((s) => ({ ...s, alert: r.alert })));
    expect(used.length).to.be.greaterThan(0);
    for (const { alert, metric, labels } of used) {
      expect(declared, `${alert}: ${metric}`).to.include(metric);
      for (const [name, value] of labels) {
        const seen = series.some((l) => l.startsWith(metric) && l.includes(`${name}="${value}"`));
        expect(seen, `${alert}: ${metric}{${name}="${value}"} never appears`).to.equal(true);
      }
    }
  });
});
