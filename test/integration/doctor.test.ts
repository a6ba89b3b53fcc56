// What the receiver can reach, against real parts: the Docker engine, both registries and PostgreSQL from
// start-services.sh, a Nomad address nothing listens on, and a cloudflared file that is not there. Seen three
// ways: the start-up log, GET /api/health?verbose (behind the API token) and `norn doctor`.
import { expect } from 'chai';
import { doctorCommand } from '../../src/cli/doctor-command.js';
import type { IntegrationReport, IntegrationStatus } from '../../src/health/integration-report.js';
import {
  authRegistryCredentials,
  authRegistryUrl,
  dockerHost,
  registryUrl,
  requireAuthRegistry,
  requireDocker,
  requirePostgres,
  requireRegistry,
  testDatabaseUrl,
} from '../support/services.js';
import { eventually, startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';
import { closedPort } from '../support/closed-port.js';

const TOKEN = 'doctor-test-token';

function byName(report: IntegrationReport): Record<string, IntegrationStatus> {
  return Object.fromEntries(report.integrations.map((i) => [i.name, i]));
}

describe('integration report: start-up log, /api/health?verbose and norn doctor', function () {
  this.timeout(60_000);
  let svc: TestService;
  let nomadAddr: string;

  before(async () => {
    await Promise.all([requireDocker(), requireRegistry(), requireAuthRegistry(), requirePostgres()]);
    nomadAddr = `http://127.0.0.1:${await closedPort()}`;
    const { username, password } = authRegistryCredentials();
    svc = await startTestService({
      env: {
        NORN_API_TOKEN: TOKEN,
        NOMAD_ADDR: nomadAddr,
        DOCKER_HOST: dockerHost(),
        NORN_REGISTRY_URL: authRegistryUrl(),
        NORN_REGISTRY_USERNAME: username,
        NORN_REGISTRY_PASSWORD: password,
        NORN_POSTGRES_URL: testDatabaseUrl(),
        NORN_CLOUDFLARED_CONFIG: '/nonexistent/norn-doctor/config.yml',
        NORN_PROBE_TIMEOUT_MS: '5000',
      },
    });
  });
  after(async () => svc?.close());

  const verbose = async (headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => {
    const res = await fetch(`${svc.url}/api/health?verbose`, { headers });
    return { status: res.status, body: (await res.json()) as IntegrationReport & { status: string; error?: string } };
  };

  it('keeps plain /api/health open and cheap, and puts ?verbose behind the API token', async () => {
    const plain = await fetch(`${svc.url}/api/health`);
    expect(plain.status).to.equal(200);
    expect(await plain.json()).to.deep.equal({ status: 'ok' });
    const anonymous = await verbose({});
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body).not.to.have.property('integrations');
  });

  it('reports each integration: real engine, registry and PostgreSQL answer; Nomad and a missing cloudflared file do not', async () => {
    const { status, body } = await verbose();
    expect(status).to.equal(200);
    expect(body.status).to.equal('ok');
    expect(body.hasFailures).to.equal(true);
    const i = byName(body);
    expect(i.docker).to.include({ state: 'ok', target: dockerHost() });
    expect(i.docker!.detail).to.match(/^Docker \S+ \(API [\d.]+\)$/);
    expect(i.registry).to.include({ state: 'ok', target: authRegistryUrl() });
    expect(i.registry!.detail).to.include('credentials accepted');
    expect(i.postgres).to.include({ state: 'ok' });
    expect(i.postgres!.detail).to.match(/^PostgreSQL \d+/);
    expect(i.nomad).to.deep.include({
      state: 'failing',
      target: nomadAddr,
      detail: 'no answer (connection refused)',
      settings: { NOMAD_ADDR: 'set', NOMAD_TOKEN: 'unset' },
    });
    expect(i.nomad!.hint).to.match(/^is Nomad running\? set NOMAD_ADDR/);
    expect(i.cloudflared).to.include({ state: 'failing', target: '/nonexistent/norn-doctor/config.yml' });
    expect(i.sops).to.include({ state: 'not configured' });
    expect(i['forge:github']).to.deep.include({ state: 'not configured', settings: { NORN_GITHUB_TOKEN: 'unset', NORN_GITHUB_API_URL: 'unset' } });
  });

  it('never shows a secret: passwords, tokens and the webhook secret appear only as set', async () => {
    const { body } = await verbose();
    const text = JSON.stringify(body);
    expect(text).not.to.include(TOKEN);
    expect(text).not.to.include('test-webhook-secret');
    expect(text, 'no user:password@ anywhere').not.to.match(/:\/\/[^/"]*@/);
    const db = new URL(testDatabaseUrl());
    expect(byName(body).postgres!.target).to.equal(`${db.hostname}:${db.port || 5432}${db.pathname}`);
    expect(byName(body).registry!.settings).to.deep.equal({ NORN_REGISTRY_URL: 'set', NORN_REGISTRY_USERNAME: 'set', NORN_REGISTRY_PASSWORD: 'set' });
  });

  it('norn doctor prints the table with the fix under what does not answer, and exits 1', async () => {
    const c = captureIo();
    expect(await doctorCommand([], { NORN_URL: svc.url, NORN_API_TOKEN: TOKEN }, c.io), c.err()).to.equal(1);
    const lines = c.out().split('\n');
    const nomad = lines.findIndex((l) => l.startsWith('✗  nomad'));
    expect(nomad, c.out()).to.be.greaterThan(0);
    expect(lines[nomad]).to.include('NOT REACHABLE').and.include(nomadAddr).and.include('no answer (connection refused)');
    expect(lines[nomad + 1]).to.match(/^ {4}→ is Nomad running\? set NOMAD_ADDR/);
    expect(lines.find((l) => l.startsWith('✓  docker'))).to.include('ok');
    expect(lines.find((l) => l.startsWith('-  sops'))).to.include('not configured').and.include('(unset: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY)');
    expect(lines.at(-2)).to.equal('✗ not reachable: nomad, cloudflared');
  });

  it('norn doctor says what to do without the token, and when no receiver answers', async () => {
    const refused = captureIo();
    expect(await doctorCommand([], { NORN_URL: svc.url }, refused.io)).to.equal(1);
    expect(refused.err()).to.equal("norn: missing or wrong API token (NORN_API_TOKEN, or the api-token file in the receiver's data dir)\n");
    const nobody = captureIo();
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect(await doctorCommand([], { NORN_URL: url }, nobody.io)).to.equal(1);
    expect(nobody.err()).to.equal(`norn: cannot reach the receiver at ${url}: is \`norn serve\` running?\n`);
  });

  it('logged the same once at start-up, with a warning naming the setting for each integration that does not answer', async () => {
    const warning = await eventually('the start-up report', async () => svc.logLines.find((l) => l.includes('"integration":"nomad"')));
    const line = JSON.parse(warning) as { level: number; msg: string };
    expect(line.level).to.equal(40);
    expect(line.msg).to.equal(`nomad is not reachable at ${nomadAddr}: no answer (connection refused); is Nomad running? set NOMAD_ADDR (and NOMAD_TOKEN when ACLs are on)`);
    expect(svc.logLines.filter((l) => l.includes('"integration":"docker"'))).to.have.length(1);
    expect(svc.logLines.join('\n')).not.to.include(authRegistryCredentials().password + '@');
  });
});

describe('norn doctor when every configured integration answers', function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    await Promise.all([requireDocker(), requireRegistry()]);
    // Nomad is the test service's simulator; cloudflared its own file.
    svc = await startTestService({ env: { DOCKER_HOST: dockerHost(), NORN_REGISTRY_URL: registryUrl() } });
  });
  after(async () => svc?.close());

  it('exits 0 and says so', async () => {
    const c = captureIo();
    expect(await doctorCommand([], { NORN_URL: svc.url, NORN_API_TOKEN: svc.token }, c.io), c.out()).to.equal(0);
    expect(c.out().trimEnd().split('\n').at(-1)).to.equal('✓ everything configured answers');
    expect(c.out()).to.match(/✓ {2}registry +ok +127\.0\.0\.1:5000/);
  });
});

describe('norn doctor on one machine with Docker and no Nomad', function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    await requireDocker();
    svc = await startTestService({ env: { NOMAD_ADDR: '', DOCKER_HOST: dockerHost() } });
  });
  after(async () => svc?.close());

  it('names the Docker runtime and why, and does not count the absent Nomad as a failure', async () => {
    const c = captureIo();
    expect(await doctorCommand([], { NORN_URL: svc.url, NORN_API_TOKEN: svc.token }, c.io), c.out()).to.equal(0);
    const lines = c.out().split('\n');
    expect(lines.find((l) => l.startsWith('✓  runtime')), c.out()).to.include('docker: the Docker engine at');
    expect(lines.find((l) => l.startsWith('-  nomad')), c.out()).to.include('not configured').and.include('apps run on the local Docker engine');
  });
});
