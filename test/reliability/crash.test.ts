// kill -9 at random moments while signed pushes stream in and deploys run through the whole pipeline (Nomad and
// the forge's status API simulated, a real cloudflared config file): a receiver process on one SQLite data dir is
// killed (at least 20 times once serving, a few more while starting) and restarted each time. Afterwards every
// delivery that was answered 2xx is in the ledger with its deploys, every deploy has ended, the ones a kill cut
// ended `interrupted`, every commit's last status at the forge is final (none left pending), the cloudflared
// config is one cloudflared would load with each app's route once, and no work dir is left.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { readIngress } from '../../src/integrations/cloudflared/ingress-document.js';
import type { ChildReceiver } from '../support/child-receiver.js';
import { commitPool, killDuringStartup, seededRandom, startReceiverRetrying } from '../support/crash-receiver.js';
import { runningDeployIds } from '../support/crash-store.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { giteaPush, githubPush, post } from '../support/signed-delivery.js';
import { ForgeSimulator } from '../support/forge-simulator.js';
import { NomadSimulator } from '../support/nomad-simulator.js';
import { eventually, specFor, TEST_SECRET } from '../support/test-service.js';

const KILLS_WHILE_SERVING = 20;
const APPS = ['crash-a', 'crash-b'];
const ENDED = ['succeeded', 'failed', 'superseded', 'interrupted'];

interface DeployView {
  sagaId: string;
  app: string;
  commitSha: string;
  status: string;
  error: string | null;
}

/** The commit status an ended deploy must leave at the forge. */
const FINAL_STATE: Record<string, string> = { succeeded: 'success', failed: 'failure', superseded: 'error', interrupted: 'error' };
const FORGE_TOKEN = 'crash-forge-token';
const API_TOKEN = 'crash-api-token';
const receiverAuth = { authorization: `Bearer ${API_TOKEN}` };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const getJson = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(url, { headers: receiverAuth });
  return { status: res.status, body: (await res.json()) as T };
};

describe('crash: kill -9 at random moments during a stream of deploys', function () {
  this.timeout(150_000);
  const seed = Number(process.env.NORN_RELIABILITY_SEED ?? Date.now() % 2 ** 31);
  const random = seededRandom(seed);
  const answered: { deliveryId: string; verdict: string }[] = [];
  const cut = new Set<string>();
  let root: string;
  let dataDir: string;
  let repo: TestRepo;
  let nomad: NomadSimulator;
  let forge: ForgeSimulator;
  let cloudflaredConfig: string;
  let receiver: ChildReceiver | undefined;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-crash-'));
    dataDir = path.join(root, 'data');
    repo = createTestRepo('crash');
    nomad = await NomadSimulator.start();
    forge = await ForgeSimulator.start({ token: FORGE_TOKEN });
    cloudflaredConfig = path.join(root, 'cloudflared.yml');
    fs.writeFileSync(cloudflaredConfig, 'tunnel: crash\ningress:\n  - hostname: static.example.com\n    service: http://127.0.0.1:8081\n  - service: http_status:404\n');
    for (const app of APPS) {
      fs.mkdirSync(path.join(root, 'apps', app), { recursive: true });
      fs.writeFileSync(path.join(root, 'apps', app, 'infraspec.yaml'), YAML.stringify(specFor(app, repo.url, { endpoints: [{ url: `https://${app}.example.com` }] })));
    }
    const env = {
      NORN_APPS_DIR: path.join(root, 'apps'),
      NORN_DATA_DIR: dataDir,
      NORN_WEBHOOK_SECRET: TEST_SECRET,
      NORN_API_TOKEN: API_TOKEN,
      NORN_LEASE_SECONDS: '2',
      NORN_POLL_INTERVAL_MS: '50',
      NORN_MAX_CONCURRENT_DEPLOYS: '4',
      NOMAD_ADDR: nomad.url,
      NORN_NOMAD_WAIT_SECONDS: '2',
      NORN_CLOUDFLARED_CONFIG: cloudflaredConfig,
      NORN_CLOUDFLARED_RESTART: 'true',
      // Gitea, not GitHub: the GitHub client spaces writes a second apart, as GitHub asks, which a test cannot wait for.
      NORN_GITEA_URL: forge.url,
      NORN_GITEA_TOKEN: FORGE_TOKEN,
      NORN_STATUS_POLL_INTERVAL_MS: '50',
      NORN_STATUS_RETRY_BASE_MS: '100',
      NORN_STATUS_TIMEOUT_SECONDS: '1',
    };

    // Pushes stream to whichever receiver is up, so a kill often lands mid-request: one stream of new commits to
    // the tracked repo (each queues a deploy per app), two faster ones for a repo no app tracks (recorded only).
    let streaming = true;
    const shas = commitPool(repo.bareDir, 1000);
    let pushed = 0;
    const stream = async (tracked: boolean) => {
      while (streaming) {
        const target = receiver;
        if (!target) {
          await sleep(20);
          continue;
        }
        const delivery = tracked
          ? giteaPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: shas[pushed++ % shas.length]! })
          : githubPush({ secret: TEST_SECRET, repoUrl: 'https://git.example/other/untracked.git', sha: randomBytes(20).toString('hex') });
        try {
          const res = await post(`${target.url}/api/webhooks/${tracked ? 'gitea' : 'github'}`, delivery);
          if (res.status >= 200 && res.status < 300) answered.push({ deliveryId: String(res.body.deliveryId), verdict: String(res.body.verdict) });
        } catch {
          // Connection refused or cut by the kill: not answered, so nothing is promised about it.
        }
        await sleep(tracked ? 100 : 5);
      }
    };
    const streams = [stream(true), stream(false), stream(false)];

    for (let i = 0; i < KILLS_WHILE_SERVING; i++) {
      // Now and then the process dies before it is serving (loading, migrating, reaping the last one's deploys).
      if (i % 7 === 0) {
        await killDuringStartup(env, 100 + random() * 1400);
        for (const id of await runningDeployIds(path.join(dataDir, 'norn.sqlite'))) cut.add(id);
      }
      receiver = await startReceiverRetrying(env);
      // Half the kills wait for a running deploy so that some are certainly cut; the others land anywhere.
      if (i % 2 === 1) {
        await eventually('a running deploy', async () => {
          const r = await getJson<{ deploys: DeployView[] }>(`${receiver!.url}/api/deploys?status=running&limit=1`);
          return r.body.deploys.length > 0 ? true : undefined;
        }, 10_000);
        await sleep(random() * 100);
      } else {
        await sleep(200 + random() * 1300);
      }
      await receiver.kill('SIGKILL');
      receiver = undefined;
      for (const id of await runningDeployIds(path.join(dataDir, 'norn.sqlite'))) cut.add(id);
    }
    streaming = false;
    await Promise.all(streams);

    // Restarted and left alone, the receiver ends what the kills cut and runs what is still queued. The bound is
    // generous: on a loaded machine draining the queue took longer than 30 s (a wait for a state, not a timing).
    receiver = await startReceiverRetrying(env);
    const unfinished = async () =>
      (await Promise.all(['queued', 'running'].map((s) => getJson<{ deploys: DeployView[] }>(`${receiver!.url}/api/deploys?status=${s}&limit=20`)))).flatMap(
        (r) => r.body.deploys,
      );
    await eventually('no deploy queued or running', async () => ((await unfinished()).length === 0 ? true : undefined), 75_000).catch(async (err: unknown) => {
      // Say which deploys never ended and how far their sagas got, so a failure can be read without a rerun.
      const stuck = await unfinished();
      const sagas = await Promise.all(stuck.map((d) => getJson<{ events: { action: string; message: string }[] }>(`${receiver!.url}/api/sagas/${d.sagaId}`)));
      const lines = stuck.map((d, i) => `${d.app} ${d.sagaId} ${d.status}: ${sagas[i]!.body.events.map((e) => e.action).join(' > ')}`);
      const said = receiver!.output.join('').split('\n').filter((l) => stuck.some((d) => l.includes(d.sagaId)) || /"level":(40|50|60)/.test(l));
      throw new Error(`${(err as Error).message} (seed ${seed}):\n${lines.join('\n')}\nthe receiver said:\n${said.slice(-30).join('\n')}`);
    });
  });

  after(async () => {
    await receiver?.kill('SIGKILL');
    await nomad?.close();
    await forge?.close();
    repo?.remove();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it(`cut requests and deploys with its ${KILLS_WHILE_SERVING} kills while serving`, () => {
    expect(answered.filter((a) => a.verdict === 'queued').length, `seed ${seed}: pushes answered 202`).to.be.at.least(20);
    expect(answered.filter((a) => a.verdict === 'no-match').length, `seed ${seed}: untracked pushes answered 200`).to.be.at.least(200);
    expect(cut.size, `seed ${seed}: deploys running when a kill landed`).to.be.at.least(KILLS_WHILE_SERVING / 2);
  });

  it('kept every delivery it answered 2xx, with the deploys it queued', async () => {
    const wrong: string[] = [];
    for (let i = 0; i < answered.length; i += 32) {
      await Promise.all(
        answered.slice(i, i + 32).map(async (a) => {
          const r = await getJson<{ delivery?: { verdict: string }; deploys?: DeployView[] }>(`${receiver!.url}/api/deliveries/${a.deliveryId}`);
          const deploys = r.body.deploys?.length ?? 0;
          if (r.status !== 200 || r.body.delivery?.verdict !== a.verdict || deploys !== (a.verdict === 'queued' ? APPS.length : 0)) {
            wrong.push(`${a.deliveryId} answered ${a.verdict}: now ${r.status} ${r.body.delivery?.verdict ?? 'not found'} with ${deploys} deploys`);
          }
        }),
      );
    }
    expect(wrong, `seed ${seed}`).to.deep.equal([]);
  });

  it('ended every deploy, the ones a kill cut as interrupted', async () => {
    const { body } = await getJson<{ deploys: DeployView[] }>(`${receiver!.url}/api/deploys?limit=1000`);
    expect(body.deploys.length).to.be.above(0).and.below(1000);
    expect(body.deploys.filter((d) => !ENDED.includes(d.status)).map((d) => `${d.sagaId} ${d.status}`), `seed ${seed}`).to.deep.equal([]);
    const byId = new Map(body.deploys.map((d) => [d.sagaId, d]));
    const notInterrupted = [...cut].map((id) => byId.get(id)).filter((d) => d?.status !== 'interrupted');
    expect(notInterrupted.map((d) => `${d?.sagaId} ${d?.status}`), `seed ${seed}`).to.deep.equal([]);
    // Each cut saga says so in its log, once.
    for (const id of cut) {
      const saga = await getJson<{ events: { action: string }[] }>(`${receiver!.url}/api/sagas/${id}`);
      expect(saga.body.events.filter((e) => e.action === 'deploy.interrupted'), `saga ${id}`).to.have.length(1);
    }
    // The kills did not leave the rest failing: deploys that were not cut ran to success.
    expect(body.deploys.filter((d) => d.status === 'succeeded').length).to.be.above(0);
  });

  it('left every commit with its final status at the forge, none pending', async () => {
    const { body } = await getJson<{ deploys: DeployView[] }>(`${receiver!.url}/api/deploys?limit=1000`);
    const wrong = () =>
      body.deploys
        .map((d) => ({ d, last: forge.statusesFor(d.commitSha, `norn/deploy/${d.app}`).at(-1)?.state }))
        .filter(({ d, last }) => last !== FINAL_STATE[d.status])
        .map(({ d, last }) => `${d.app} ${d.commitSha.slice(0, 8)} ${d.status}: last status ${last ?? 'none'}`);
    // Statuses a kill caught in flight are retried once their claim runs out (a few seconds).
    await eventually('every final status delivered', async () => (wrong().length === 0 ? true : undefined), 30_000).catch(() => undefined);
    expect(wrong(), `seed ${seed}`).to.deep.equal([]);
  });

  it('left the cloudflared config valid, with each app routed once', () => {
    const ingress = readIngress(fs.readFileSync(cloudflaredConfig, 'utf8'));
    expect(ingress.problems, `seed ${seed}`).to.deep.equal([]);
    const routed = ingress.rules.slice(1, -1);
    expect(routed.map((r) => `${r.owner} ${r.hostname}`).sort()).to.deep.equal(APPS.map((a) => `${a} ${a}.example.com`));
    expect([ingress.rules[0]?.hostname, ingress.rules.at(-1)?.service]).to.deep.equal(['static.example.com', 'http_status:404']);
  });

  it('left no work dir behind', () => {
    expect(fs.readdirSync(path.join(dataDir, 'work')), `seed ${seed}`).to.deep.equal([]);
  });
});
