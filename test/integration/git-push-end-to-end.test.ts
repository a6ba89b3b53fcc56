// The headline promise, with every real part at once: a `git push` to a bare repository with the hook installed
// deploys the app. Only Nomad's API and the forge's status API are simulated; git, the Docker engine, the
// registry, PostgreSQL, SOPS decryption and the cloudflared config are real.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import WebSocket from 'ws';
import { freePort } from '../support/child-receiver.js';
import { rawDocker } from '../support/docker-fixture.js';
import { fixturesDir } from '../support/fixtures-dir.js';
import { ForgeSimulator } from '../support/forge-simulator.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { dockerDriver } from '../support/nomad-sim-docker.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { createScratchDatabase, dockerHost, registryUrl, requireDocker, requirePostgres, requireRegistry, testDatabaseUrl, type ScratchDatabase } from '../support/services.js';
import { expectSubsequence } from '../support/subsequence.js';
import { eventually, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const hook = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../hooks/post-receive');
const STEPS = ['clone', 'build', 'test', 'snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup'];

interface Saga {
  saga: { status: string; error: string | null; imageTag: string | null; commitSha: string };
  events: { action: string; message: string; metadata: { step?: string } }[];
}

describe('git push deploys, end to end', function () {
  this.timeout(240_000);
  let repo: TestRepo;
  let db: ScratchDatabase;
  let nomad: NomadSimulator;
  let forge: ForgeSimulator;
  let svc: TestService;
  let port: number;
  const seen: { type: string; payload: Record<string, unknown> }[] = [];
  let ws: WebSocket;

  before(async () => {
    await requireDocker();
    await requireRegistry();
    await requirePostgres();
    db = await createScratchDatabase('shopdb');
    nomad = await NomadSimulator.start({ timeFactor: 0.01, stepMs: 20, driver: dockerDriver(rawDocker()) });
    forge = await ForgeSimulator.start({ token: 'forge-token' });
    port = await freePort();
    repo = createTestRepo('shop');
    const database = new URL(db.url).pathname.slice(1);
    svc = await startTestService({
      nomad,
      env: {
        DOCKER_HOST: dockerHost(),
        NORN_REGISTRY_URL: registryUrl(),
        NORN_POSTGRES_URL: testDatabaseUrl(),
        NORN_APP_POSTGRES_URL: testDatabaseUrl(),
        SOPS_AGE_KEY_FILE: path.join(fixturesDir(), 'sops/humphd-sops-age/key.txt'),
        NORN_GITHUB_API_URL: forge.url,
        NORN_GITHUB_TOKEN: 'forge-token',
        NORN_GENERIC_STATUS_FORGE: 'github',
        NORN_STATUS_POLL_INTERVAL_MS: '50',
        NORN_HEALTHY_DEADLINE_SECONDS: '60',
      },
      specs: {
        shop: {
          name: 'shop',
          repo: { url: repo.url, branch: 'main', autoDeploy: true },
          build: { test: 'sh /src/test.sh' },
          processes: { web: { port, command: 'sh /app/start.sh', health: { path: '/health', interval: '1s', timeout: '1s' } } },
          endpoints: [{ url: 'https://shop.example.com' }],
          infrastructure: { postgres: { database } },
          migrations: 'db/migrations',
          secrets: ['secret'],
        },
      },
    });
    fs.copyFileSync(path.join(fixturesDir(), 'sops/humphd-sops-age/secret.enc.yaml'), path.join(svc.appsDir, 'shop', 'secrets.enc.yaml'));
    fs.symlinkSync(hook, path.join(repo.bareDir, 'hooks', 'post-receive'));
    repo.gitConfig('norn.url', svc.url);
    repo.gitConfig('norn.secret', TEST_SECRET);
    repo.gitConfig('norn.fullName', 'acme/shop');
    ws = new WebSocket(`${svc.url.replace('http', 'ws')}/ws?app=shop`, { headers: svc.authHeaders });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('message', (m) => seen.push(JSON.parse(String(m))));
  });

  after(async () => {
    ws?.close();
    await svc?.close();
    await nomad?.close();
    await forge?.close();
    await db?.drop();
    repo?.remove();
  });

  async function deployOf(sha: string): Promise<Saga> {
    const sagaId = await eventually(`a deploy of ${sha.slice(0, 12)}`, async () => {
      const list = (await (await svc.api(`/api/deploys?app=shop`)).json()) as { deploys: { sagaId: string; commitSha: string }[] };
      return list.deploys.find((d) => d.commitSha === sha)?.sagaId;
    });
    return eventually('the deploy to end', async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as Saga;
      return ['queued', 'running'].includes(s.saga.status) ? undefined : s;
    }, 200_000);
  }

  it('deploys a pushed commit through all nine steps and the app serves the decrypted secret', async () => {
    const { sha, remote } = await repo.commitAndPush({
      Dockerfile: 'FROM norn-base:latest\nCOPY start.sh /app/start.sh\n',
      'start.sh': 'mkdir -p /www && echo ok > /www/health && printf "%s" "$secret" > /www/secret && exec httpd -f -p "$PORT" -h /www\n',
      'test.sh': 'test -f /src/start.sh\n',
      'db/migrations/0001_items.sql': 'create table items (id int primary key);\ninsert into items values (1);\n',
    }, 'first release');
    expect(remote).to.contain(`norn: queued shop`);

    const saga = await deployOf(sha);
    expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
    const completed = saga.events.filter((e) => e.action === 'step.complete').map((e) => e.metadata.step!);
    expect(completed).to.deep.equal(STEPS);
    expect(saga.saga.imageTag).to.equal(`${registryUrl()}/shop:${sha.slice(0, 12)}`);

    // The app answers on its port and sees the secret SOPS decrypted.
    expect(await (await fetch(`http://127.0.0.1:${port}/secret`)).text()).to.equal('this is a secret');

    // The live stream carried every step and the completion.
    await eventually('deploy.completed on the socket', async () => (seen.some((e) => e.type === 'deploy.completed') ? true : undefined));
    const streamed = seen.filter((e) => e.type === 'deploy.step' && e.payload.status === 'complete').map((e) => e.payload.step);
    expect(streamed).to.deep.equal(STEPS);

    // The forge got pending ... success on that commit.
    const statuses = await eventually('the final status', async () => {
      const got = forge.statusesFor(sha, 'norn/deploy/shop');
      return got.at(-1)?.state === 'success' ? got : undefined;
    });
    expect(statuses[0]!.state).to.equal('pending');
    expect(statuses[0]!.repo).to.equal('acme/shop');

    // The migration is applied, the snapshot exists, the hostname is routed, no work dir is left.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const items = await client.query('select count(*)::int as n from items');
    await client.end();
    expect(items.rows[0].n).to.equal(1);
    const snapshots = (await (await svc.api(`/api/apps/shop/snapshots`)).json()) as { snapshots: { path: string }[] };
    expect(snapshots.snapshots).to.have.length(1);
    expect(fs.existsSync(snapshots.snapshots[0]!.path)).to.equal(true);
    const ingress = fs.readFileSync(svc.cloudflaredConfig, 'utf8');
    expect(ingress).to.match(new RegExp(`hostname: shop\\.example\\.com[\\s\\S]*service: http://127\\.0\\.0\\.1:${port}`));
    expect(ingress.trim().split('\n').at(-1)).to.contain('http_status:404');
    expect(fs.readdirSync(path.join(svc.dataDir, 'work'))).to.deep.equal([]);
  });

  it('stops a commit whose tests fail, leaving the running app untouched', async () => {
    const { sha } = await repo.commitAndPush({ 'test.sh': 'echo "the tests failed" >&2; exit 1\n', 'start.sh': 'exit 1\n' }, 'broken release');
    const saga = await deployOf(sha);
    expect(saga.saga.status).to.equal('failed');
    expect(saga.saga.error).to.match(/^test: /);
    expectSubsequence(saga.events.map((e) => `${e.action}:${e.metadata.step ?? ''}`), ['step.complete:build', 'step.failed:test', 'step.complete:cleanup', 'deploy.failed:test']);
    expect(await (await fetch(`http://127.0.0.1:${port}/secret`)).text()).to.equal('this is a secret');
    const final = await eventually('the failure status', async () => forge.statusesFor(sha, 'norn/deploy/shop').find((s) => s.state === 'failure'));
    expect(final.description).to.contain('test');
  });

  it('takes a push that changes only files outside the build context from push to healthy without building', async () => {
    const release = {
      'start.sh': 'mkdir -p /www && echo ok > /www/health && printf "%s" "$secret" > /www/secret && exec httpd -f -p "$PORT" -h /www\n',
      'test.sh': 'test -f /src/start.sh\n',
      '.dockerignore': 'docs\n',
      'docs/guide.md': 'how to use the shop\n',
      // Unique per run, so this release is built here rather than found in the registry from an earlier run.
      'release.txt': `${Date.now()}-${Math.random()}\n`,
    };
    const built = await repo.commitAndPush(release, 'release with docs', 'main');
    const first = await deployOf(built.sha);
    expect(first.saga.status, first.saga.error ?? '').to.equal('succeeded');
    expect(first.events.find((e) => e.action === 'step.complete' && e.metadata.step === 'build')?.message).to.match(/^built and pushed /);

    const { sha } = await repo.commitAndPush({ 'docs/guide.md': 'how to use the shop, revised\n' }, 'docs only');
    const saga = await deployOf(sha);
    expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
    const build = saga.events.find((e) => e.action === 'step.complete' && e.metadata.step === 'build');
    expect(build?.message).to.equal(`build skipped: inputs unchanged since ${built.sha.slice(0, 12)}`);
    expect(saga.events.some((e) => e.metadata.step === 'build' && /^building /.test(e.message))).to.equal(false);
    expect(saga.events.filter((e) => e.action === 'step.complete').map((e) => e.metadata.step)).to.include('healthy');
    expect(saga.saga.imageTag).to.equal(`${registryUrl()}/shop:${sha.slice(0, 12)}`);
  });

  it('deploys nothing for a push to another branch, and the delivery says why', async () => {
    const { sha, remote } = await repo.commitAndPush({ 'notes.txt': 'wip' }, 'wip', 'feature/wip');
    expect(remote).to.contain('nothing to deploy');
    const delivery = await eventually('the delivery', async () => {
      const list = (await (await svc.api(`/api/deliveries`)).json()) as { deliveries: { commitSha: string; verdict: string; reason: string; forge: string }[] };
      return list.deliveries.find((d) => d.commitSha === sha);
    });
    expect(delivery.forge).to.equal('generic');
    expect(delivery.verdict).to.equal('no-match');
    expect(delivery.reason).to.contain('feature/wip is not the tracked branch main');
  });
});
