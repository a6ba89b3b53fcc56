// `norn secrets set` on the Docker runtime with the real engine: the value set through the API reaches the
// container the next deploy starts, and a later change reaches the one after it, not the one already running.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startDockerAppService, type DockerAppService } from '../support/docker-app-service.js';
import { appContainers, webAppFiles } from '../support/docker-runtime-app.js';
import { nonce, rawDocker } from '../support/docker-fixture.js';
import { fixturesDir } from '../support/fixtures-dir.js';
import type { TestService } from '../support/test-service.js';

const SOPS = path.join(fixturesDir(), 'sops', 'humphd-sops-age');

describe('norn secrets set on the Docker runtime (real engine)', function () {
  this.timeout(240_000);
  const app = `dsec-${nonce()}`;
  let rig: DockerAppService | undefined;
  let svc: TestService;

  const ended = async (sagaId: string) => (await rig!.ended(sagaId)).saga;
  const set = async (key: string, value: string) => {
    const res = await svc.api(`/api/apps/${app}/secrets/${key}`, { method: 'PUT', body: JSON.stringify({ value }) });
    expect(res.status, await res.clone().text()).to.equal(200);
  };
  /** API_TOKEN as each running container of the app has it in its env. */
  const runningValues = async () => {
    const running = (await appContainers(app)).filter((c) => c.State === 'running');
    const envs = await Promise.all(running.map(async (c) => (await rawDocker().getContainer(c.Id).inspect()).Config.Env ?? []));
    return envs.map((env) => env.find((e) => e.startsWith('API_TOKEN='))?.slice('API_TOKEN='.length));
  };

  before(async () => {
    rig = await startDockerAppService(app, { gate: { minHealthySeconds: 1, healthyDeadlineSeconds: 20 }, env: { SOPS_AGE_KEY_FILE: path.join(SOPS, 'key.txt') } });
    svc = rig.svc;
    fs.copyFileSync(path.join(SOPS, 'secret.enc.yaml'), path.join(svc.appsDir, app, 'secrets.enc.yaml'));
  });
  after(async () => {
    await rig?.close();
  });

  it('passes the value to the next deploy\'s container, and a change to the deploy after it', async () => {
    await set('API_TOKEN', 'first-token-value');
    const first = await ended((await rig!.push(webAppFiles('v1'))).sagaId);
    expect(first.status, first.error ?? '').to.equal('succeeded');
    expect(await runningValues()).to.deep.equal(['first-token-value']);

    await set('API_TOKEN', 'second-token-value');
    expect(await runningValues(), 'the running container keeps its env until the next deploy').to.deep.equal(['first-token-value']);
    const redeploy = (await (await svc.api(`/api/apps/${app}/deploy`, { method: 'POST', body: '{}' })).json()) as { deploys: { sagaId: string }[] };
    const second = await ended(redeploy.deploys[0]!.sagaId);
    expect(second.status, second.error ?? '').to.equal('succeeded');
    expect(await runningValues()).to.deep.equal(['second-token-value']);
  });
});
