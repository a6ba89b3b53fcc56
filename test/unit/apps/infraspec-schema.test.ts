import { expect } from 'chai';
import { prebuiltImage, processKind } from '../../../src/apps/infraspec-schema.js';
import { validateAppSpec, type SpecIssue } from '../../../src/apps/validate-app-spec.js';

const minimal = { name: 'shop', image: 'nginx:1.27', processes: { web: { port: 8080 } } };

function issuesOf(input: unknown): SpecIssue[] {
  const result = validateAppSpec(input);
  if (result.ok) throw new Error('expected the spec to be invalid');
  return result.issues;
}

/** A minimal spec with one field of `web` replaced (or added). */
function withProcess(fields: Record<string, unknown>): unknown {
  return { ...minimal, processes: { web: { port: 8080, ...fields } } };
}

describe('infraspec schema', () => {
  describe('defaults', () => {
    it('fills in every documented default', () => {
      const result = validateAppSpec({
        ...minimal,
        image: undefined,
        repo: { url: 'https://github.com/acme/shop.git' },
        build: {},
        processes: { web: { port: 8080, health: { path: '/healthz' } } },
      });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      const { spec } = result;
      expect(spec.deploy).to.equal(true);
      expect(spec.repo).to.include({ branch: 'main', autoDeploy: false });
      expect(spec.build).to.include({ dockerfile: 'Dockerfile', context: '.' });
      const web = spec.processes.web!;
      expect(web.health).to.deep.equal({ path: '/healthz', interval: '10s', timeout: '5s' });
      expect(web.metrics).to.deep.equal({ enabled: false, path: '/metrics' });
      expect(web.scaling).to.deep.equal({ min: 1 });
      expect(web.drain).to.deep.equal({ signal: 'SIGTERM' });
      expect(web.resources).to.deep.equal({ cpu: 100, memory: 128 });
      expect(spec.snapshots).to.deep.equal({ keep: 3, preRestore: false, retentionEnabled: false });
      expect(spec.deployPolicy).to.deep.equal({ autoRollback: true });
    });

    it('keeps values that are given and fills only the missing ones', () => {
      const result = validateAppSpec(
        withProcess({ resources: { cpu: 250 }, scaling: { max: 4 }, health: { path: '/h', timeout: '2s' } }),
      );
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      const web = result.spec.processes.web!;
      expect(web.resources).to.deep.equal({ cpu: 250, memory: 128 });
      expect(web.scaling).to.deep.equal({ min: 1, max: 4 });
      expect(web.health).to.deep.equal({ path: '/h', interval: '10s', timeout: '2s' });
    });

    it('accepts the example of INFRASPEC.md with every section', () => {
      const result = validateAppSpec({
        name: 'shop',
        repo: { url: 'https://github.com/acme/shop.git', branch: 'main', autoDeploy: true, repoWeb: 'https://github.com/acme/shop', tags: 'v*', paths: ['services/shop/**'] },
        build: { dockerfile: 'Dockerfile', test: 'npm test', context: 'services/shop', args: { NODE_VERSION: 20 } },
        processes: {
          web: {
            port: 8080,
            command: 'node server.js',
            health: { path: '/healthz' },
            metrics: { enabled: true, port: 9090 },
            scaling: { min: 2, max: 6, per_region: 1, auto: { metric: 'kafka_lag', target: 100, topic: 'orders' } },
            drain: { signal: 'SIGINT', timeout: '30s' },
            resources: { cpu: 200, memory: 256 },
            canary: { count: 1, evaluateAfter: '2m' },
            tuning: { mode: 'advisory', anything: { goes: [1, 2] } },
            env: { PORT: 8080 },
          },
          nightly: { schedule: '0 3 * * *', timezone: 'Europe/Berlin', command: 'node jobs/nightly.js' },
          resize: { function: { timeout: '5m', memory: 512 } },
        },
        secrets: ['STRIPE_KEY'],
        migrations: 'db/migrations',
        env: { LOG_LEVEL: 'info', DEBUG: false },
        infrastructure: {
          postgres: { database: 'shop' },
          redis: { namespace: 'shop' },
          kafka: { topics: ['orders'] },
          nats: { streams: ['events'] },
          objectStorage: { provider: 'garage', buckets: [{ name: 'uploads', access: 'readWrite', public: false, prefix: 'u/', env: 'UPLOADS' }] },
        },
        endpoints: [{ url: 'https://shop.example.com' }, { url: 'api.example.com', region: 'eu' }],
        volumes: [{ name: 'data', mount: '/data', readOnly: true }],
        snapshots: { keep: 7, exportBucket: 'backups' },
        deployPolicy: { autoRollback: false },
        services: ['legacy'],
      });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.spec.env).to.deep.equal({ LOG_LEVEL: 'info', DEBUG: 'false' });
      expect(result.spec.processes.web!.env).to.deep.equal({ PORT: '8080' });
      expect(result.spec.deployPolicy.autoRollback).to.equal(false);
    });
  });

  describe('rejections name the field and the reason', () => {
    const table: [string, unknown, string, RegExp][] = [
      ['missing name', { image: 'x', processes: { web: {} } }, 'name', /is required/],
      ['upper-case name', { ...minimal, name: 'Shop' }, 'name', /lowercase letters, digits and dashes/],
      ['name too long', { ...minimal, name: 'a'.repeat(64) }, 'name', /at most 63/],
      ['no processes', { ...minimal, processes: {} }, 'processes', /at least one process/],
      ['processes as a list', { ...minimal, processes: [] }, 'processes', /must be a mapping, not a list/],
      ['bad process name', { ...minimal, processes: { Web_1: {} } }, 'processes.Web_1', /process name must be lowercase/],
      ['port 0', withProcess({ port: 0 }), 'processes.web.port', /1-65535/],
      ['port 70000', withProcess({ port: 70000 }), 'processes.web.port', /1-65535/],
      ['fractional port', withProcess({ port: 80.5 }), 'processes.web.port', /whole number/],
      ['bad duration', withProcess({ health: { path: '/h', interval: '10 seconds' } }), 'processes.web.health.interval', /Go duration/],
      ['zero health timeout', withProcess({ health: { path: '/h', timeout: '0s' } }), 'processes.web.health.timeout', /greater than zero/],
      ['health path without slash', withProcess({ health: { path: 'health' } }), 'processes.web.health.path', /start with \//],
      ['health without port', { ...minimal, processes: { web: { health: { path: '/h' } } } }, 'processes.web.health', /need a port/],
      ['cron with 3 fields', { ...minimal, processes: { job: { schedule: '0 3 *' } } }, 'processes.job.schedule', /3 fields/],
      ['cron minute 60', { ...minimal, processes: { job: { schedule: '60 3 * * *' } } }, 'processes.job.schedule', /minute 60 is out of range/],
      ['unknown cron macro', { ...minimal, processes: { job: { schedule: '@sometimes' } } }, 'processes.job.schedule', /unknown macro/],
      ['bad time zone', { ...minimal, processes: { job: { schedule: '@daily', timezone: 'Mars/Olympus' } } }, 'processes.job.timezone', /IANA time zone/],
      ['time zone without schedule', withProcess({ timezone: 'UTC' }), 'processes.web.timezone', /only to a process with a schedule/],
      ['schedule and function', { ...minimal, processes: { job: { schedule: '@daily', function: {} } } }, 'processes.job.function', /either schedule or function/],
      ['migrations leaving the repo', { ...minimal, migrations: 'db/../../x' }, 'migrations', /must not contain "\.\."/],
      ['absolute dockerfile', { ...minimal, image: undefined, build: { dockerfile: '/Dockerfile' } }, 'build.dockerfile', /not absolute/],
      ['context leaving the repo', { ...minimal, image: undefined, build: { context: '..' } }, 'build.context', /must not contain/],
      ['reserved build arg', { ...minimal, image: undefined, build: { args: { VERSION: '1' } } }, 'build.args', /VERSION is reserved/],
      ['ftp endpoint', { ...minimal, endpoints: [{ url: 'ftp://shop.example.com' }] }, 'endpoints[0].url', /http\(s\) URL or a bare hostname/],
      ['endpoint with a path only', { ...minimal, endpoints: [{ url: 'shop example' }] }, 'endpoints[0].url', /bare hostname/],
      ['unrecognizable repo url', { ...minimal, repo: { url: 'shop' } }, 'repo.url', /clone URL/],
      ['full ref as branch', { ...minimal, repo: { url: 'git@github.com:a/b', branch: 'refs/heads/main' } }, 'repo.branch', /not the full ref/],
      ['empty paths list', { ...minimal, repo: { url: 'git@github.com:a/b', paths: [] } }, 'repo.paths', /at least one glob/],
      ['tags as a list', { ...minimal, repo: { url: 'git@github.com:a/b', tags: ['v*'] } }, 'repo.tags', /must be a string/],
      ['bad env name', { ...minimal, env: { 'LOG-LEVEL': 'x' } }, 'env.LOG-LEVEL', /environment variable name/],
      ['relative volume mount', { ...minimal, volumes: [{ name: 'd', mount: 'data' }] }, 'volumes[0].mount', /absolute path/],
      ['testTarget without test', { ...minimal, image: undefined, build: { testTarget: 'test' } }, 'build.testTarget', /needs a test command/],
      ['reserved BUILD_NUMBER', { ...minimal, image: undefined, build: { args: { BUILD_NUMBER: '1' } } }, 'build.args', /BUILD_NUMBER is reserved/],
      ['both build and image', { ...minimal, build: {} }, 'image', /only without a build section/],
      ['bad drain signal', withProcess({ drain: { signal: 'term' } }), 'processes.web.drain.signal', /signal name/],
      ['scaling max below min', withProcess({ scaling: { min: 3, max: 2 } }), 'processes.web.scaling.max', /at least min/],
      ['app-process id too long', { ...minimal, name: 'a'.repeat(40), processes: { ['b'.repeat(30)]: {} } }, `processes.${'b'.repeat(30)}`, /at most 63/],
    ];
    for (const [title, input, path, reason] of table) {
      it(title, () => {
        const issue = issuesOf(input).find((i) => i.path === path);
        expect(issue, `no issue at ${path}: ${JSON.stringify(issuesOf(input))}`).to.not.equal(undefined);
        expect(issue!.reason).to.match(reason);
      });
    }
  });

  describe('unknown fields and empty sections (warnings, as Norn ignores them)', () => {
    function warningsOf(input: unknown): SpecIssue[] {
      const result = validateAppSpec(input);
      if (!result.ok) throw new Error(`expected the spec to load: ${JSON.stringify(result.issues)}`);
      return result.warnings;
    }

    it('loads a spec with an unknown top-level field and suggests the close one', () => {
      expect(warningsOf({ ...minimal, endpoint: [] })).to.deep.equal([
        { path: 'endpoint', reason: 'unknown field "endpoint" is ignored (did you mean "endpoints"?)' },
      ]);
    });

    it('warns about a misspelt nested field, which then takes no effect', () => {
      const result = validateAppSpec({ ...minimal, repo: { url: 'git@github.com:a/b', autodeploy: true } });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.spec.repo!.autoDeploy).to.equal(false);
      expect(result.warnings).to.deep.equal([{ path: 'repo.autodeploy', reason: 'unknown field "autodeploy" is ignored (did you mean "autoDeploy"?)' }]);
    });

    it('lists the allowed fields when nothing is close', () => {
      const [warning] = warningsOf(withProcess({ replicas: 3 }));
      expect(warning!.path).to.equal('processes.web.replicas');
      expect(warning!.reason).to.include('allowed: port, command, schedule');
    });

    it('drops empty sections with a warning, and reads an empty process as one with every default', () => {
      const result = validateAppSpec({ name: 'shop', env: null, build: null, processes: { web: null, api: { port: 80, health: null } } });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.spec.build).to.equal(undefined);
      expect(result.spec.env).to.equal(undefined);
      expect(result.spec.processes.web!.resources).to.deep.equal({ cpu: 100, memory: 128 });
      expect(result.spec.processes.api!.health).to.equal(undefined);
      expect(result.warnings.map((w) => w.path)).to.deep.equal(['env', 'build', 'processes.api.health']);
    });

    it('sets an empty env value to an empty string, with a warning', () => {
      const result = validateAppSpec({ ...minimal, env: { A: null } });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.spec.env).to.deep.equal({ A: '' });
      expect(result.warnings[0]!.path).to.equal('env.A');
    });

    it('keeps an empty deployPolicy safe (autoRollback true) and says so', () => {
      const result = validateAppSpec({ ...minimal, deployPolicy: {} });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.spec.deployPolicy.autoRollback).to.equal(true);
      expect(result.warnings[0]!.reason).to.match(/autoRollback stays true/);
    });

    it('checks tuning as Norn defines it, and says it is not acted on', () => {
      const warnings = warningsOf(withProcess({ tuning: { mode: 'auto', cooldown: '6h', whatever: { a: 1 } } }));
      expect(warnings).to.deep.equal([
        { path: 'processes.web.tuning.whatever', reason: 'unknown field "whatever" is ignored (allowed: mode, cooldown, profiles, limits, signals)' },
        { path: 'processes.web.tuning', reason: 'not acted on: advisory only; change resources yourself' },
      ]);
      expect(issuesOf(withProcess({ tuning: { cooldown: 'six hours' } }))[0]!.path).to.equal('processes.web.tuning.cooldown');
    });

    it('says that retentionEnabled: false does not stop retention here', () => {
      const warnings = warningsOf({ ...minimal, infrastructure: { postgres: { database: 'shop' } }, snapshots: { keep: 5, retentionEnabled: false } });
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.path).to.equal('snapshots.retentionEnabled');
      expect(warnings[0]!.reason).to.match(/does not turn retention off here: .* only the newest 5/);
    });

    it('still refuses a wrong value in a known field', () => {
      expect(issuesOf({ ...minimal, bogus: 1, processes: { web: { port: 'x' } } })[0]!.path).to.equal('processes.web.port');
    });
  });

  describe('without build and image', () => {
    it('runs <name>:latest, as Norn does', () => {
      const result = validateAppSpec({ name: 'shop', processes: { web: {} } });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(prebuiltImage(result.spec)).to.equal('shop:latest');
    });
  });

  it('never echoes a rejected value in the reason', () => {
    const issues = issuesOf({ ...minimal, env: { TOKEN: { secret: 'hunter2' } } });
    expect(JSON.stringify(issues)).to.not.include('hunter2');
  });

  describe('processKind', () => {
    it('infers scheduled, function and service', () => {
      expect(processKind({ schedule: '@daily' })).to.equal('scheduled');
      expect(processKind({ function: {} })).to.equal('function');
      expect(processKind({})).to.equal('service');
    });
  });
});
