// The service's own image: built from the repository's Dockerfile with the real engine (on a local stand-in for
// node:20-bookworm-slim, since nothing can be pulled here), started once on the host network, and checked the
// way an operator would: health, its own HEALTHCHECK, who it runs as, the tools it needs, its env configuration.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { nonce } from '../support/docker-fixture.js';
import { hmacHex } from '../support/signed-delivery.js';
import { eventually } from '../support/test-service.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { freePort } from '../support/child-receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE_IMAGE = 'norn-node-base:test';
const IMAGE = 'norn-receiver:test';

interface Run {
  readonly code: number | null;
  readonly out: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: ROOT, env: { ...process.env, DOCKER_HOST: dockerHost() }, timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
}

async function ok(file: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const result = await run(file, args, timeoutMs);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}:\n${result.out.slice(-3000)}`);
  return result.out;
}


describe('the service image (Dockerfile)', function () {
  this.timeout(60_000);
  const container = `norn-image-test-${nonce()}`;
  const secret = `image-test-${nonce()}`;
  let url: string;

  before(async function () {
    this.timeout(8 * 60_000); // a cold build; later runs come from the layer cache in seconds
    await requireDocker();
    await ok('bash', ['test/support/build-node-base.sh'], 5 * 60_000);
    // --network host: the test engine has no bridge network, and the build fetches packages.
    await ok('docker', ['build', '--network', 'host', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, '.'], 6 * 60_000);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Only the probe interval is shortened; the probe itself is the image's HEALTHCHECK.
    await ok('docker', ['run', '-d', '--name', container, '--network', 'host', '--health-interval', '1s',
      '-e', `NORN_PORT=${port}`, '-e', `NORN_WEBHOOK_SECRET=${secret}`, IMAGE]);
  });

  after(async () => {
    await run('docker', ['rm', '-f', '-v', container], 30_000);
  });

  const logs = async () => (await run('docker', ['logs', '--tail', '40', container], 10_000)).out;

  it('answers /api/health on the port from NORN_PORT and becomes healthy by its own HEALTHCHECK', async () => {
    await eventually('/api/health to answer 200', async () => {
      const res = await fetch(`${url}/api/health`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; container logs:\n${await logs()}`);
    });
    const healthcheck = JSON.parse(await ok('docker', ['image', 'inspect', '-f', '{{json .Config.Healthcheck.Test}}', IMAGE])) as string[];
    expect(healthcheck.join(' ')).to.contain('/api/health');
    const status = await eventually('the container health status to settle', async () => {
      const value = await ok('docker', ['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', container]);
      return value === 'healthy' || value === 'unhealthy' ? value : undefined;
    }, 30_000);
    expect(status, await logs()).to.equal('healthy');
  });

  it('runs as a non-root user and carries git and the PostgreSQL client', async () => {
    expect(await ok('docker', ['exec', container, 'id', '-u'])).to.equal('10001');
    expect(await ok('docker', ['exec', container, 'git', '--version'])).to.match(/^git version 2\./);
    for (const tool of ['pg_dump', 'pg_restore', 'psql']) {
      expect(await ok('docker', ['exec', container, tool, '--version'])).to.match(/PostgreSQL\) \d+/);
    }
  });

  it('takes its configuration from the environment: apps dir, data dir and webhook secret', async () => {
    // No NORN_API_TOKEN given: the service generated one into its data dir, and the API needs it.
    expect((await fetch(`${url}/api/apps`)).status).to.equal(401);
    const token = await ok('docker', ['exec', container, 'cat', '/var/lib/norn/api-token']);
    const apps = (await (await fetch(`${url}/api/apps`, { headers: { authorization: `Bearer ${token}` } })).json()) as { apps: unknown[]; errors: unknown[] };
    expect(apps).to.deep.equal({ apps: [], errors: [] }); // /etc/norn/apps, empty
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: 'a'.repeat(40), repository: { url: 'ssh://git.example.com/team/app.git' } });
    const res = await fetch(`${url}/api/webhooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-norn-event': 'push', 'x-norn-delivery': nonce(), 'x-norn-signature-256': `sha256=${hmacHex(secret, body)}` },
      body,
    });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.include({ verdict: 'no-match' });
    // The store lives in the data-dir volume, written by the non-root user.
    expect(await ok('docker', ['exec', container, 'sh', '-c', 'ls /var/lib/norn'])).to.match(/\S/);
  });
});
