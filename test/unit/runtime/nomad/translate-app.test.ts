import { expect } from 'chai';
import { type AppSpec, infraspecSchema } from '../../../../src/apps/infraspec-schema.js';
import { ConfigError } from '../../../../src/errors.js';
import type { NomadJob, NomadTaskGroup } from '../../../../src/integrations/nomad/nomad-types.js';
import { redactSecretEnv } from '../../../../src/runtime/redact-secret-env.js';
import { translateApp, type TranslateInput } from '../../../../src/runtime/nomad/translate-app.js';

const S = 1e9;

function spec(raw: Record<string, unknown>): AppSpec {
  return infraspecSchema.parse({ name: 'shop', image: 'reg/shop:abc', ...raw });
}

function translate(s: AppSpec, extra: Partial<TranslateInput> = {}) {
  return translateApp({ spec: s, image: 'reg/shop:abc', secrets: {}, ...extra });
}

function group(job: NomadJob, name: string): NomadTaskGroup {
  const g = job.TaskGroups.find((x) => x.Name === name);
  if (!g) throw new Error(`no task group ${name} in ${job.ID}`);
  return g;
}

/** The same object with every key order reversed, recursively (what a YAML file written differently parses to). */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)])) as T;
  }
  return value;
}

const shop = {
  env: { LOG_LEVEL: 'info', TZ: 'America/New_York' },
  processes: {
    web: { port: 8080, command: 'node server.js', health: { path: '/healthz', interval: '15s', timeout: '2s' }, resources: { cpu: 200, memory: 256 } },
    worker: { command: 'node worker.js', drain: { signal: 'SIGINT', timeout: '45s' } },
    nightly: { schedule: '0 3 * * *', timezone: 'Europe/Berlin', command: 'node nightly.js' },
    report: { schedule: '*/5 * * * *', env: { TZ: 'Asia/Tokyo' } },
    cleanup: { schedule: '0 0 * * 0' },
    invoke: { function: { timeout: '30s' } },
  },
};

describe('translateApp', () => {
  it('makes one service job with a task group per service process, sorted, and skips functions', () => {
    const { service } = translate(spec(shop));
    expect(service).to.include({ ID: 'shop', Name: 'shop', Type: 'service', Priority: 50 });
    expect(service.Datacenters).to.deep.equal(['dc1']);
    expect(service.TaskGroups.map((g) => g.Name)).to.deep.equal(['web', 'worker']);
    expect(service).not.to.have.property('Meta');
  });

  it('sets the update strategy and restart policy in nanoseconds', () => {
    const web = group(translate(spec(shop)).service, 'web');
    expect(web.Update).to.deep.equal({ MaxParallel: 1, MinHealthyTime: 30 * S, AutoRevert: true });
    expect(web.RestartPolicy).to.deep.equal({ Attempts: 3, Interval: 300 * S, Delay: 15 * S, Mode: 'delay' });
    expect(web.Count).to.equal(1);
  });

  it('turns a canary into Canary=count without Nomad auto-revert', () => {
    const s = spec({ processes: { web: { port: 8080, canary: { count: 2, evaluateAfter: '1m' }, scaling: { min: 3 } } } });
    const web = group(translate(s).service, 'web');
    expect(web.Update).to.deep.equal({ MaxParallel: 1, MinHealthyTime: 30 * S, AutoRevert: false, Canary: 2 });
    expect(web.Count).to.equal(3);
  });

  it('runs the image through docker with /bin/sh -c for a command, and resources from the spec or 100 MHz/128 MB', () => {
    const { service } = translate(spec(shop));
    const web = group(service, 'web').Tasks[0]!;
    expect(web).to.include({ Name: 'web', Driver: 'docker' });
    expect(web.Config).to.deep.equal({ image: 'reg/shop:abc', command: '/bin/sh', args: ['-c', 'node server.js'], ports: ['web-http'] });
    expect(web.Resources).to.deep.equal({ CPU: 200, MemoryMB: 256 });
    expect(group(service, 'worker').Tasks[0]!.Resources).to.deep.equal({ CPU: 100, MemoryMB: 128 });
  });

  it('uses a dynamic port labelled {process}-http without endpoints', () => {
    const web = group(translate(spec(shop)).service, 'web');
    expect(web.Networks).to.deep.equal([{ DynamicPorts: [{ Label: 'web-http', To: 8080 }] }]);
    expect(group(translate(spec(shop)).service, 'worker')).not.to.have.property('Networks');
  });

  it('reserves a static port when the app has endpoints', () => {
    const web = group(translate(spec({ ...shop, endpoints: [{ url: 'https://shop.example.com' }] })).service, 'web');
    expect(web.Networks).to.deep.equal([{ ReservedPorts: [{ Label: 'web-http', Value: 8080, To: 8080 }] }]);
  });

  it('registers the Consul service {app}-{process} with an http check from health', () => {
    const web = group(translate(spec(shop)).service, 'web');
    expect(web.Services).to.deep.equal([
      { Name: 'shop-web', PortLabel: 'web-http', Provider: 'consul', Checks: [{ Type: 'http', Path: '/healthz', Interval: 15 * S, Timeout: 2 * S }] },
    ]);
    const defaults = group(translate(spec({ processes: { web: { port: 80, health: { path: '/' } } } })).service, 'web');
    expect(defaults.Services![0]!.Checks).to.deep.equal([{ Type: 'http', Path: '/', Interval: 10 * S, Timeout: 5 * S }]);
  });

  it('adds a metrics service, on its own dynamic port when the metrics port differs', () => {
    const own = group(translate(spec({ processes: { web: { port: 8080, metrics: { enabled: true, port: 9090 } } } })).service, 'web');
    expect(own.Networks![0]!.DynamicPorts).to.deep.equal([{ Label: 'web-http', To: 8080 }, { Label: 'web-metrics', To: 9090 }]);
    expect(own.Tasks[0]!.Config.ports).to.deep.equal(['web-http', 'web-metrics']);
    expect(own.Services![1]).to.deep.equal({
      Name: 'shop-web-metrics',
      Tags: ['metrics', 'prometheus'],
      PortLabel: 'web-metrics',
      Provider: 'consul',
      Checks: [{ Type: 'http', Path: '/metrics', Interval: 30 * S, Timeout: 5 * S }],
    });
    const shared = group(translate(spec({ processes: { web: { port: 8080, metrics: { enabled: true, path: '/m' } } } })).service, 'web');
    expect(shared.Services![1]).to.include({ PortLabel: 'web-http' });
    expect(shared.Services![1]!.Checks![0]).to.include({ Path: '/m' });
  });

  it('declares every volume, not only the last, and mounts each', () => {
    const s = spec({ ...shop, volumes: [{ name: 'uploads', mount: '/data/uploads' }, { name: 'cache', mount: '/cache', readOnly: true }] });
    const { service, periodic } = translate(s);
    for (const g of [group(service, 'web'), periodic[0]!.TaskGroups[0]!]) {
      expect(g.Volumes).to.deep.equal({
        cache: { Name: 'cache', Type: 'host', Source: 'cache', ReadOnly: true },
        uploads: { Name: 'uploads', Type: 'host', Source: 'uploads', ReadOnly: false },
      });
      expect(g.Tasks[0]!.VolumeMounts).to.deep.equal([
        { Volume: 'uploads', Destination: '/data/uploads', ReadOnly: false },
        { Volume: 'cache', Destination: '/cache', ReadOnly: true },
      ]);
    }
  });

  it('sets the drain signal and kill timeout', () => {
    const { service } = translate(spec(shop));
    expect(group(service, 'worker').Tasks[0]).to.include({ KillSignal: 'SIGINT', KillTimeout: 45 * S });
    const web = group(service, 'web').Tasks[0]!;
    expect(web.KillSignal).to.equal('SIGTERM');
    expect(web).not.to.have.property('KillTimeout');
  });

  it('makes a periodic batch job {app}-{process} per scheduled process', () => {
    const { periodic } = translate(spec(shop));
    expect(periodic.map((j) => j.ID)).to.deep.equal(['shop-cleanup', 'shop-nightly', 'shop-report']);
    const nightly = periodic[1]!;
    expect(nightly).to.include({ ID: 'shop-nightly', Name: 'shop-nightly', Type: 'batch', Priority: 50 });
    expect(nightly.Periodic).to.deep.equal({ Enabled: true, SpecType: 'cron', Spec: '0 3 * * *', TimeZone: 'Europe/Berlin' });
    expect(nightly.TaskGroups).to.have.length(1);
    expect(nightly.TaskGroups[0]).to.not.have.property('Update');
    expect(nightly.TaskGroups[0]!.Tasks[0]!.Config).to.deep.equal({ image: 'reg/shop:abc', command: '/bin/sh', args: ['-c', 'node nightly.js'] });
  });

  it('takes the time zone from process.timezone, then process env TZ, then the spec env TZ', () => {
    const tz = (jobs: NomadJob[], id: string) => jobs.find((j) => j.ID === id)!.Periodic!.TimeZone;
    const { periodic } = translate(spec(shop));
    expect(tz(periodic, 'shop-nightly')).to.equal('Europe/Berlin');
    expect(tz(periodic, 'shop-report')).to.equal('Asia/Tokyo');
    expect(tz(periodic, 'shop-cleanup')).to.equal('America/New_York');
    const none = translate(spec({ processes: { cron: { schedule: '@daily' } } })).periodic[0]!;
    expect(none.Periodic).to.not.have.property('TimeZone');
  });

  it('layers env: PORT, then spec env, then process env, then secrets', () => {
    const s = spec({
      env: { A: 'spec', B: 'spec', C: 'spec', PORT: '1' },
      processes: { web: { port: 8080, env: { B: 'process', C: 'process' } } },
    });
    const env = group(translate(s, { secrets: { C: 'secret', D: 'secret' } }).service, 'web').Tasks[0]!.Env;
    expect(env).to.deep.equal({ A: 'spec', B: 'process', C: 'secret', D: 'secret', PORT: '1' });
    const bare = group(translate(spec({ processes: { web: { port: 8080 } } })).service, 'web').Tasks[0]!.Env;
    expect(bare).to.deep.equal({ PORT: '8080' });
  });

  it('builds DATABASE_URL for infrastructure.postgres from the app-facing server URL, unless a secret sets it', () => {
    const s = spec({ ...shop, infrastructure: { postgres: { database: 'shop_prod' } } });
    const appPostgresUrl = 'postgres://app:s3cret@db.internal:5432/postgres?sslmode=require';
    const jobs = translate(s, { appPostgresUrl });
    expect(group(jobs.service, 'web').Tasks[0]!.Env!.DATABASE_URL).to.equal('postgres://app:s3cret@db.internal:5432/shop_prod?sslmode=require');
    expect(jobs.periodic[0]!.TaskGroups[0]!.Tasks[0]!.Env!.DATABASE_URL).to.include('/shop_prod');
    expect(jobs.secretEnvKeys).to.include('DATABASE_URL');

    const own = translate(s, { appPostgresUrl, secrets: { DATABASE_URL: 'postgres://mine@elsewhere/db' } });
    expect(group(own.service, 'web').Tasks[0]!.Env!.DATABASE_URL).to.equal('postgres://mine@elsewhere/db');

    expect(group(translate(spec(shop), { appPostgresUrl }).service, 'web').Tasks[0]!.Env).not.to.have.property('DATABASE_URL');
  });

  it('rejects an app postgres URL that is not postgres:// without echoing it', () => {
    const s = spec({ ...shop, infrastructure: { postgres: { database: 'shop' } } });
    expect(() => translate(s, { appPostgresUrl: 'mysql://u:hunter2@h/db' }))
      .to.throw(ConfigError)
      .that.satisfies((e: Error) => !e.message.includes('hunter2'));
  });

  it('is deterministic: the same input twice, or with keys in another order, gives the same JSON', () => {
    const input = { secrets: { Z: '1', A: '2' }, appPostgresUrl: 'postgres://u:p@h/x' };
    const s = spec({ ...shop, infrastructure: { postgres: { database: 'shop' } }, volumes: [{ name: 'v', mount: '/v' }] });
    const first = translate(s, input);
    expect(translate(s, input)).to.deep.equal(first);
    const shuffled = translate(spec(reversedKeys({ ...shop, infrastructure: { postgres: { database: 'shop' } }, volumes: [{ name: 'v', mount: '/v' }] })), {
      ...input,
      secrets: reversedKeys(input.secrets),
    });
    expect(JSON.stringify(shuffled)).to.equal(JSON.stringify(first));
  });

  it('leaves the service job without task groups when every process is scheduled', () => {
    const { service, periodic } = translate(spec({ processes: { nightly: { schedule: '@daily' } } }));
    expect(service.TaskGroups).to.deep.equal([]);
    expect(periodic).to.have.length(1);
  });

  it('takes datacenters and namespace from the input', () => {
    const { service, periodic } = translate(spec(shop), { datacenters: ['eu1', 'eu2'], namespace: 'apps' });
    for (const job of [service, ...periodic]) expect(job).to.deep.include({ Datacenters: ['eu1', 'eu2'], Namespace: 'apps' });
  });

  it('redacts secret env values for display', () => {
    const jobs = translate(spec(shop), { secrets: { API_KEY: 'k-123' } });
    const shown = JSON.stringify(redactSecretEnv(jobs.service, jobs.secretEnvKeys));
    expect(shown).not.to.include('k-123');
    expect(shown).to.include('"API_KEY":"<redacted>"');
    expect(group(jobs.service, 'web').Tasks[0]!.Env!.API_KEY).to.equal('k-123');
  });
  it('makes each function process a parameterized batch job that takes an optional payload and runs once', () => {
    const { functions } = translate(spec({ ...shop, processes: { ...shop.processes, invoke: { function: { timeout: '30s', memory: 48 }, command: 'node fn.js' } } }));
    expect(functions.map((j) => j.ID)).to.deep.equal(['shop-invoke']);
    const [job] = functions;
    expect(job).to.include({ Type: 'batch', Priority: 50 });
    expect(job!.ParameterizedJob).to.deep.equal({ Payload: 'optional' });
    expect(job!.Periodic).to.equal(undefined);
    const g = group(job!, 'invoke');
    expect(g.RestartPolicy).to.deep.equal({ Attempts: 0, Interval: 60 * S, Delay: 5 * S, Mode: 'fail' });
    expect(g.ReschedulePolicy).to.deep.equal({ Attempts: 0, Unlimited: false });
    const task = g.Tasks[0]!;
    expect(task.DispatchPayload).to.deep.equal({ File: 'payload' });
    expect(task.Env).to.include({ NORN_PAYLOAD_FILE: '${NOMAD_TASK_DIR}/payload', TZ: 'America/New_York' });
    expect(task.Resources).to.deep.equal({ CPU: 100, MemoryMB: 48 });
    expect(task.Config).to.deep.equal({ image: 'reg/shop:abc', command: '/bin/sh', args: ['-c', 'node fn.js'] });
  });

  it('registers a paused schedule disabled and leaves the others enabled', () => {
    const { periodic } = translate(spec(shop), { pausedSchedules: new Set(['report']) });
    expect(periodic.map((j) => [j.ID, j.Periodic!.Enabled])).to.deep.equal([
      ['shop-cleanup', true],
      ['shop-nightly', true],
      ['shop-report', false],
    ]);
  });
});
