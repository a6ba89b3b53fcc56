import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { UpstreamError } from '../../../../src/errors.js';
import { NomadClient, type NomadClientConfig, splitWarnings } from '../../../../src/integrations/nomad/nomad-client.js';
import type { NomadJob } from '../../../../src/integrations/nomad/nomad-types.js';
import { closedPort } from '../../../support/closed-port.js';

interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

/** A loopback port nothing listens on (taken, then released). */
/** A fetch that records each request and answers from a script: status, body, headers. */
function stubFetch(answer: (req: Recorded) => { status?: number; body?: string; headers?: Record<string, string> } = () => ({})) {
  const requests: Recorded[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const req: Recorded = {
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    if (init?.signal?.aborted) throw init.signal.reason;
    const a = answer(req);
    const status = a.status ?? 200;
    return new Response(a.body ?? 'null', {
      status,
      headers: { 'content-type': status === 200 ? 'application/json' : 'text/plain; charset=utf-8', ...a.headers },
    });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

const log = pino({ level: 'silent' });
const job: NomadJob = { ID: 'shop', Name: 'shop', Type: 'service', TaskGroups: [] };

function client(config: Partial<NomadClientConfig>, fetch: typeof globalThis.fetch) {
  return new NomadClient({ address: 'http://nomad.test:4646/', ...config }, { fetch, log });
}

describe('NomadClient', () => {
  it('registers a job with POST /v1/jobs {Job}, the token header and namespace/region parameters', async () => {
    const { fetch, requests } = stubFetch(() => ({
      body: JSON.stringify({ EvalID: 'e-1', EvalCreateIndex: 42, JobModifyIndex: 42, Warnings: '', Index: 42, LastContact: 0, KnownLeader: false }),
      headers: { 'X-Nomad-Index': '42' },
    }));
    const result = await client({ token: 'secret-token', namespace: 'apps', region: 'eu' }, fetch).register(job);
    expect(result).to.deep.equal({ evalId: 'e-1', evalCreateIndex: 42, jobModifyIndex: 42, warnings: [], index: 42 });
    const [req] = requests;
    expect(req!.method).to.equal('POST');
    expect(req!.url.origin + req!.url.pathname).to.equal('http://nomad.test:4646/v1/jobs');
    expect(Object.fromEntries(req!.url.searchParams)).to.deep.equal({ namespace: 'apps', region: 'eu' });
    expect(req!.headers.get('x-nomad-token')).to.equal('secret-token');
    expect(req!.body).to.deep.equal({ Job: job });
  });

  it('sends no token header and no parameters when none are configured', async () => {
    const { fetch, requests } = stubFetch(() => ({ body: JSON.stringify({ EvalID: '', EvalCreateIndex: 0, JobModifyIndex: 3, Warnings: '', Index: 3 }) }));
    await client({}, fetch).register(job);
    expect(requests[0]!.headers.has('x-nomad-token')).to.equal(false);
    expect(requests[0]!.url.search).to.equal('');
  });

  it('returns registration warnings as a list', async () => {
    const Warnings = '2 warnings:\n\n* Group "web" has warnings: 1 error occurred\n* Job "shop" uses a deprecated field\n\n';
    const { fetch } = stubFetch(() => ({ body: JSON.stringify({ EvalID: 'e', EvalCreateIndex: 1, JobModifyIndex: 1, Warnings, Index: 1 }) }));
    const result = await client({}, fetch).register(job);
    expect(result.warnings).to.deep.equal(['Group "web" has warnings: 1 error occurred', 'Job "shop" uses a deprecated field']);
    expect(splitWarnings('one plain warning')).to.deep.equal(['one plain warning']);
  });

  it('plans with POST /v1/job/:id/plan {Job, Diff: true}', async () => {
    const { fetch, requests } = stubFetch(() => ({ body: JSON.stringify({ Annotations: null, FailedTGAllocs: null, JobModifyIndex: 0, Diff: { Type: 'Added' }, Warnings: '', Index: 5 }) }));
    const plan = await client({}, fetch).plan({ ...job, ID: 'my app' });
    expect(requests[0]!.url.pathname).to.equal('/v1/job/my%20app/plan');
    expect(requests[0]!.body).to.deep.include({ Diff: true });
    expect(plan.Diff).to.deep.equal({ Type: 'Added' });
  });

  it('turns a plain-text error answer into UpstreamError with Nomad status and message', async () => {
    const body = '1 error occurred:\n\t* Task group web validation failed: Missing tasks for task group\n\n';
    const { fetch } = stubFetch(() => ({ status: 500, body }));
    const err = await client({}, fetch).register(job).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError);
    expect(err).to.include({ service: 'nomad', operation: 'register job', status: 500, upstreamMessage: body });
  });

  it('reports a 404 read as UpstreamError 404 "job not found"', async () => {
    const { fetch } = stubFetch(() => ({ status: 404, body: 'job not found', headers: { 'X-Nomad-Index': '9' } }));
    const err = await client({}, fetch).readJob('nope').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError).with.property('status', 404);
    expect((err as UpstreamError).upstreamMessage).to.equal('job not found');
  });

  it('makes blocking reads with index and wait in ms, and returns X-Nomad-Index', async () => {
    const { fetch, requests } = stubFetch(() => ({ body: JSON.stringify({ ID: 'd-1', Status: 'running' }), headers: { 'X-Nomad-Index': '77' } }));
    const c = client({ namespace: 'apps' }, fetch);
    const first = await c.readDeployment('d-1');
    expect(first.index).to.equal(77);
    expect(Object.fromEntries(requests[0]!.url.searchParams)).to.deep.equal({ namespace: 'apps' });
    await c.readDeployment('d-1', { index: 77, waitMs: 30_000 });
    expect(Object.fromEntries(requests[1]!.url.searchParams)).to.deep.equal({ index: '77', wait: '30000ms', namespace: 'apps' });
  });

  it('reads the documented paths', async () => {
    const { fetch, requests } = stubFetch((req) => ({ body: req.url.pathname.endsWith('/deployment') ? 'null' : '[]' }));
    const c = client({}, fetch);
    await c.jobAllocations('shop');
    expect((await c.latestDeployment('shop')).value).to.equal(null);
    await c.jobDeployments('shop');
    await c.deploymentAllocations('d-1');
    await c.readEvaluation('e-1');
    await c.readAllocation('a-1');
    expect(requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).to.deep.equal([
      'GET /v1/job/shop/allocations?all=false',
      'GET /v1/job/shop/deployment',
      'GET /v1/job/shop/deployments',
      'GET /v1/deployment/allocations/d-1',
      'GET /v1/evaluation/e-1',
      'GET /v1/allocation/a-1',
    ]);
  });

  it('promotes and fails deployments with their documented bodies', async () => {
    const { fetch, requests } = stubFetch(() => ({ body: JSON.stringify({ EvalID: 'e', EvalCreateIndex: 1, DeploymentModifyIndex: 2, Index: 2 }) }));
    const c = client({}, fetch);
    await c.promoteDeployment('d-1');
    await c.failDeployment('d-1');
    expect(requests.map((r) => [r.method, r.url.pathname, r.body])).to.deep.equal([
      ['PUT', '/v1/deployment/promote/d-1', { DeploymentID: 'd-1', All: true }],
      ['PUT', '/v1/deployment/fail/d-1', { DeploymentID: 'd-1' }],
    ]);
  });

  it('follows an evaluation to its deployment, or null when there is none', async () => {
    const { fetch } = stubFetch((req) => {
      if (req.url.pathname === '/v1/evaluation/e-1') return { body: JSON.stringify({ ID: 'e-1', DeploymentID: 'd-1' }) };
      if (req.url.pathname === '/v1/evaluation/e-2') return { body: JSON.stringify({ ID: 'e-2', DeploymentID: '' }) };
      return { body: JSON.stringify({ ID: 'd-1', Status: 'successful' }) };
    });
    const c = client({}, fetch);
    expect(await c.evaluationDeployment('e-1')).to.include({ ID: 'd-1' });
    expect(await c.evaluationDeployment('e-2')).to.equal(null);
  });

  it('wraps a connection failure as UpstreamError with status 0 and no token in the message', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    const err = await client({ token: 'secret-token' }, fetch).leader().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError).with.property('status', 0);
    expect((err as Error).message).to.include('nomad.test').and.not.include('secret-token');
  });

  it('says a refused connection got no answer, and names the setting to check', async () => {
    const port = await closedPort();
    const c = new NomadClient({ address: `http://127.0.0.1:${port}`, token: 'secret-token' }, { fetch: globalThis.fetch, log: pino({ level: 'silent' }) });
    const err = await c.register({ ID: 'shop' } as NomadJob).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError).with.property('status', 0);
    expect((err as Error).message).to.equal(
      `nomad: register job failed: no answer from http://127.0.0.1:${port} (connection refused); is Nomad running? set NOMAD_ADDR`,
    );
  });

  it('rejects with the abort reason when the signal is aborted', async () => {
    const { fetch } = stubFetch();
    const controller = new AbortController();
    const reason = new Error('deploy cancelled');
    controller.abort(reason);
    const err = await client({}, fetch).readJob('shop', { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).to.equal(reason);
  });

  it('rejects an answer that is not JSON', async () => {
    const { fetch } = stubFetch(() => ({ body: '<html>proxy</html>' }));
    const err = await client({}, fetch).readJob('shop').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError).with.property('status', 200);
  });

  describe('with TLS options', () => {
    let dir: string;
    let server: https.Server;
    let address: string;

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'nomad-tls-'));
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
      server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-nomad-index': '1' }).end(JSON.stringify({ token: req.headers['x-nomad-token'] ?? null }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('trusts the configured CA and sends the token', async () => {
      const ca = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
      const c = new NomadClient({ address, token: 't', tls: { ca } }, { fetch, log });
      const r = await c.readJob('x');
      expect(r.value).to.deep.equal({ token: 't' });
    });

    it('refuses a server certificate it cannot verify, unless insecure', async () => {
      const err = await new NomadClient({ address, tls: {} }, { fetch, log }).readJob('x').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UpstreamError).with.property('status', 0);
      const ok = await new NomadClient({ address, tls: { insecure: true } }, { fetch, log }).readJob('x');
      expect(ok.index).to.equal(1);
    });
  });
});
