// Step 8 (`forge` = cloudflared ingress) and the teardown, as the runner and the API would see them: what the
// step returns and reports, how it fails, and what lands in the config file (a copy of cloudflared's own).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AppSpec } from '../../src/apps/infraspec-schema.js';
import { createServiceAddressResolver, type ResolveServiceAddress } from '../../src/pipeline/ingress/resolve-service-address.js';
import { teardownEndpoints } from '../../src/pipeline/ingress/teardown-endpoints.js';
import { StepFailedError } from '../../src/errors.js';
import { CloudflaredIngress } from '../../src/pipeline/ingress/cloudflared-ingress.js';
import { NomadClient } from '../../src/integrations/nomad/nomad-client.js';
import { createCommandRunner } from '../../src/integrations/process/run-command.js';
import { forgeStep } from '../../src/pipeline/steps/forge.js';
import type { StepContext, StepResult } from '../../src/pipeline/step.js';
import { readFixture } from '../support/fixtures-dir.js';
import { memoryLogger } from '../support/memory-logger.js';

const shopSpec = (extra: Record<string, unknown> = {}) =>
  ({
    name: 'shop',
    processes: { web: { port: 8080 }, nightly: { schedule: '0 3 * * *' } },
    endpoints: [{ url: 'https://shop.example.com' }, { url: 'http://Shop.Example.com/admin' }, { url: 'api.shop.example.com' }],
    ...extra,
  }) as unknown as AppSpec;

const fixedAddress: ResolveServiceAddress = async () => ({
  process: 'web', address: '10.0.0.5', port: 8080, source: 'nomad', instance: 'a1b2', healthyInstances: 2,
});

describe('forge step (cloudflared ingress)', () => {
  let dir: string;
  let configPath: string;
  let reports: string[];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-forge-'));
    configPath = path.join(dir, 'config.yml');
    fs.writeFileSync(configPath, readFixture('cloudflared/ingress_test.socks.yml'));
    reports = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ingress = (reloadCommand?: string) =>
    new CloudflaredIngress({ configPath, reloadCommand, reloadTimeoutMs: 10_000 }, { runner: createCommandRunner(), log: memoryLogger().log });
  const context = (spec: AppSpec): StepContext => ({
    sagaId: 's1', app: spec.name, spec, specDir: dir, ref: 'refs/heads/main', commitSha: 'a'.repeat(40), cloneUrl: 'x',
    signal: new AbortController().signal, outputs: {}, report: (message) => reports.push(message),
  });
  const run = (spec: AppSpec, deps: Parameters<typeof forgeStep>[0]): Promise<StepResult> => forgeStep(deps).run(context(spec));

  it('skips an app without endpoints, without asking where it runs', async () => {
    let asked = false;
    const result = await run(shopSpec({ endpoints: undefined }), { ingress: ingress(), resolveServiceAddress: async () => { asked = true; return fixedAddress(shopSpec(), new AbortController().signal); } });
    expect(result).to.deep.equal({ status: 'skipped', reason: 'no endpoints' });
    expect(asked).to.equal(false);
  });

  it('routes each endpoint hostname once, reloads cloudflared, and is up to date the second time', async () => {
    const reloads = path.join(dir, 'reloads');
    const deps = { ingress: ingress(`echo ok >> '${reloads}'`), resolveServiceAddress: fixedAddress };
    const result = await run(shopSpec(), deps);
    expect(result.status).to.equal('complete');
    if (result.status !== 'complete') return;
    expect(result.outputs.routes).to.deep.equal([
      { hostname: 'shop.example.com', service: 'http://10.0.0.5:8080', process: 'web' },
      { hostname: 'api.shop.example.com', service: 'http://10.0.0.5:8080', process: 'web' },
    ]);
    expect(result.message).to.equal(`cloudflared ingress added shop.example.com, api.shop.example.com in ${configPath}; cloudflared reloaded (echo ok >> '${reloads}')`);
    expect(reports[0]).to.equal('routing shop.example.com, api.shop.example.com to http://10.0.0.5:8080 (web, nomad a1b2, 1 of 2 healthy instances)');
    const text = fs.readFileSync(configPath, 'utf8');
    expect(text).to.contain('        ports: [80, 443]\n');
    expect(text).to.match(/api\.shop\.example\.com # norn:shop\n {2}service: http:\/\/10\.0\.0\.5:8080\n- service: http_status:404\n$/);

    const again = await run(shopSpec(), deps);
    expect(again.status === 'complete' && again.message).to.equal(`cloudflared ingress up to date in ${configPath}`);
    expect(fs.readFileSync(reloads, 'utf8')).to.equal('ok\n');
  });

  it('says in the saga that cloudflared must be restarted when no reload command is configured', async () => {
    const result = await run(shopSpec(), { ingress: ingress(), resolveServiceAddress: fixedAddress });
    expect(result.status === 'complete' && result.message).to.contain('cloudflared must be restarted to load the change');
    expect(reports).to.include('cloudflared must be restarted to load the new ingress rules');
  });

  it('fails with the tail of the reload command stderr', async () => {
    const deps = { ingress: ingress("echo 'Job for cloudflared.service failed' >&2; exit 1"), resolveServiceAddress: fixedAddress };
    const err = await run(shopSpec(), deps).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as StepFailedError).step).to.equal('forge');
    expect((err as Error).message).to.match(/^ingress rules written, but reloading cloudflared failed: .*Job for cloudflared.service failed/);
    expect((err as StepFailedError).detail).to.include({ exitCode: 1 });
  });

  it('completes as live but not routed when there is no cloudflared config at all, and says which hostnames do not reach the app', async () => {
    fs.rmSync(configPath);
    const result = await run(shopSpec(), { ingress: ingress('true'), resolveServiceAddress: fixedAddress });
    const notRouted = `no cloudflared config at ${configPath} (NORN_CLOUDFLARED_CONFIG)`;
    expect(result).to.deep.equal({ status: 'complete', outputs: { notRouted }, message: `live, not routed: ${notRouted}` });
    expect(reports.at(-1)).to.equal(`live, not routed: ${notRouted}; shop.example.com, api.shop.example.com do not reach shop until it exists and the deploy runs again`);
    expect(fs.existsSync(configPath), 'no file is made up').to.equal(false);
  });

  it('fails on an invalid config file, listing what is wrong, and leaves the file alone', async () => {
    const broken = 'tunnel: abc\ningress:\n- hostname: a.example.com:443\n  service: http://x:1\n';
    fs.writeFileSync(configPath, broken);
    const err = await run(shopSpec(), { ingress: ingress('true'), resolveServiceAddress: fixedAddress }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StepFailedError);
    expect((err as StepFailedError).detail).to.deep.include({ configPath, kind: 'invalid' });
    expect((err as Error).message).to.contain('must be a bare hostname').and.to.contain('last ingress rule must match all URLs');
    expect(fs.readFileSync(configPath, 'utf8')).to.equal(broken);
  });

  it('routes to the address of the healthy Nomad allocation (real client, stub Nomad answers)', async () => {
    const { log } = memoryLogger();
    const answers: Record<string, unknown> = {
      '/v1/job/shop/allocations': [
        { ID: 'a-new', TaskGroup: 'web', JobID: 'shop', JobVersion: 4, CreateIndex: 60, DesiredStatus: 'run', ClientStatus: 'running', DeploymentStatus: { Healthy: true, Timestamp: null, Canary: false, ModifyIndex: 61 } },
        { ID: 'a-old', TaskGroup: 'web', JobID: 'shop', JobVersion: 3, CreateIndex: 50, DesiredStatus: 'stop', ClientStatus: 'complete', DeploymentStatus: { Healthy: true, Timestamp: null, Canary: false, ModifyIndex: 55 } },
      ],
      '/v1/allocation/a-new': { ID: 'a-new', AllocatedResources: { Shared: { Ports: [{ Label: 'web-http', Value: 8080, To: 8080, HostIP: '10.1.2.3' }] } } },
    };
    const fetchFn = (async (input: string | URL) => {
      const body = answers[new URL(String(input)).pathname];
      return body === undefined ? new Response('', { status: 404 }) : new Response(JSON.stringify(body), { status: 200 });
    }) as typeof fetch;
    const nomad = new NomadClient({ address: 'http://nomad.test:4646' }, { fetch: fetchFn, log });
    const resolveServiceAddress = createServiceAddressResolver({ nomad, log });
    const result = await run(shopSpec(), { ingress: ingress(), resolveServiceAddress });
    expect(result.status === 'complete' && result.outputs.routes).to.deep.include({ hostname: 'shop.example.com', service: 'http://10.1.2.3:8080', process: 'web' });
  });

  it('teardown removes the app’s rules and reports it; a second teardown finds none', async () => {
    const cloudflared = ingress('true');
    await run(shopSpec(), { ingress: cloudflared, resolveServiceAddress: fixedAddress });
    await cloudflared.applyRoutes('blog', [{ hostname: 'blog.example.com', service: 'http://10.0.0.9:3000' }]);

    const result = await teardownEndpoints(cloudflared, 'shop');
    expect(result.removed).to.deep.equal(['shop.example.com', 'api.shop.example.com']);
    expect(result.message).to.equal(`cloudflared ingress removed shop.example.com, api.shop.example.com in ${configPath}; cloudflared reloaded (true)`);
    const text = fs.readFileSync(configPath, 'utf8');
    expect(text).not.to.contain('norn:shop');
    expect(text).to.contain('blog.example.com # norn:blog');
    expect((await teardownEndpoints(cloudflared, 'shop')).message).to.equal(`shop has no cloudflared rules in ${configPath}`);
  });
});
