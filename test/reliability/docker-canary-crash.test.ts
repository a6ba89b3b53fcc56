// kill -9 of a receiver while a Docker-runtime deploy's canary waits for promotion, then a restart. The waiting
// stage lived in the killed process: the restarted receiver records the deploy as interrupted, removes the canary
// (it was never promoted) and leaves the old version serving, with the ingress still pointing at it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { startChildReceiver, type ChildReceiver } from '../support/child-receiver.js';
import { answerAt, appContainers, removeAppContainers, webAppFiles, webAppSpec } from '../support/docker-runtime-app.js';
import { nonce } from '../support/docker-fixture.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, TEST_SECRET } from '../support/test-service.js';

interface SagaAnswer {
  saga: { status: string; error: string | null };
  events: { action: string; message: string }[];
}

describe('crash: kill -9 while a Docker-runtime canary waits for promotion', function () {
  this.timeout(300_000);
  const app = `dcc-${nonce()}`;
  let root: string;
  let repo: TestRepo;
  let env: Record<string, string>;
  let receiver: ChildReceiver | undefined;
  let cloudflaredConfig: string;

  const api = (route: string, init: RequestInit = {}) => fetch(`${receiver!.url}${route}`, { ...init, headers: { ...receiver!.authHeaders, 'content-type': 'application/json' } });
  const push = async (version: string) => {
    const sha = repo.commit(webAppFiles(version));
    const res = await post(`${receiver!.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    expect(res.status).to.equal(202);
    return { sha, sagaId: (res.body.deploys as { sagaId: string }[])[0]!.sagaId };
  };
  const waitFor = (what: string, id: string, ok: (s: SagaAnswer) => boolean) =>
    eventually(what, async () => {
      const s = (await (await api(`/api/sagas/${id}`)).json()) as SagaAnswer;
      return ok(s) ? s : undefined;
    }, 150_000);

  before(async () => {
    await requireDocker();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-dcanary-'));
    repo = createTestRepo(app);
    cloudflaredConfig = path.join(root, 'cloudflared.yml');
    fs.writeFileSync(cloudflaredConfig, 'tunnel: test\ningress:\n  - service: http_status:404\n');
    fs.mkdirSync(path.join(root, 'apps', app), { recursive: true });
    const spec = webAppSpec(app, repo.url, { endpoints: [{ url: `https://${app}.example.com` }] });
    (spec.processes as { web: Record<string, unknown> }).web.canary = { count: 1, evaluateAfter: '1m' };
    fs.writeFileSync(path.join(root, 'apps', app, 'infraspec.yaml'), YAML.stringify(spec));
    env = {
      NORN_APPS_DIR: path.join(root, 'apps'),
      NORN_DATA_DIR: path.join(root, 'data'),
      NORN_WEBHOOK_SECRET: TEST_SECRET,
      NORN_LEASE_SECONDS: '2',
      NORN_POLL_INTERVAL_MS: '50',
      NORN_RUNTIME: 'docker',
      DOCKER_HOST: dockerHost(),
      NORN_DOCKER_NETWORK: 'host',
      NORN_DOCKER_MIN_HEALTHY_SECONDS: '1',
      NORN_HEALTHY_DEADLINE_SECONDS: '60',
      NORN_CLOUDFLARED_CONFIG: cloudflaredConfig,
      NORN_CLOUDFLARED_RESTART: 'true',
    };
    receiver = await startChildReceiver(env);
  });
  after(async () => {
    await receiver?.kill('SIGKILL');
    await removeAppContainers(app);
    repo?.remove();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('records the deploy as interrupted, removes the canary and keeps the old version serving and routed', async () => {
    const v1 = await push('v1');
    const s1 = await waitFor('v1 to end', v1.sagaId, (s) => !['queued', 'running'].includes(s.saga.status));
    expect(s1.saga.status, s1.saga.error ?? '').to.equal('succeeded');
    const [old] = await appContainers(app);
    const oldAddress = `127.0.0.1:${old!.Labels['norn.host-port']}`;

    const v2 = await push('v2');
    await waitFor('the v2 canary to wait for promotion', v2.sagaId, (s) => s.events.some((e) => e.action === 'canary.waiting'));
    expect((await appContainers(app)).map((c) => c.Labels['norn.commit']).sort()).to.deep.equal([v1.sha, v2.sha].sort());
    await receiver!.kill('SIGKILL');
    receiver = await startChildReceiver(env);

    const s2 = await waitFor('v2 to be settled', v2.sagaId, (s) => s.events.some((e) => e.action === 'runtime.recovered'));
    expect(s2.saga.status).to.equal('interrupted');
    expect(s2.events.find((e) => e.action === 'runtime.recovered')!.message).to.match(/removed the 1 container/);
    const left = await appContainers(app);
    expect(left.map((c) => c.Labels['norn.commit'])).to.deep.equal([v1.sha]);
    expect(await answerAt(oldAddress)).to.equal('v1');
    expect(fs.readFileSync(cloudflaredConfig, 'utf8')).to.contain(`service: http://${oldAddress}`);

    // The stage died with the killed receiver: nothing waits for a decision here.
    const promote = await api(`/api/apps/${app}/canary/promote`, { method: 'POST', body: '{}' });
    expect(promote.status).to.equal(409);
    expect(((await promote.json()) as { error: string }).error).to.contain('no canary stage in this receiver');
  });
});
