// kill -9 of a receiver while a Docker-runtime deploy's canary waits for promotion, then a restart. The waiting
// stage lived in the killed process: the restarted receiver records the deploy as interrupted, removes the canary
// (it was never promoted) and leaves the old version serving, with the ingress still pointing at it.
import fs from 'node:fs';
import { expect } from 'chai';
import { startDockerCrashReceiver, type DockerCrashReceiver } from '../support/docker-crash-receiver.js';
import { answerAt, appContainers, webAppFiles } from '../support/docker-runtime-app.js';
import { nonce } from '../support/docker-fixture.js';

interface SagaAnswer {
  saga: { status: string; error: string | null };
  events: { action: string; message: string; metadata: Record<string, unknown> }[];
}

describe('crash: kill -9 while a Docker-runtime canary waits for promotion', function () {
  this.timeout(300_000);
  const app = `dcc-${nonce()}`;
  let rig: DockerCrashReceiver | undefined;

  const push = (version: string) => rig!.push(webAppFiles(version));
  const waitFor = (what: string, id: string, ok: (s: SagaAnswer) => boolean) => rig!.waitFor(what, id, ok);

  before(async () => {
    rig = await startDockerCrashReceiver({
      app,
      web: { canary: { count: 1, evaluateAfter: '1m' } },
      gate: { minHealthySeconds: 1, healthyDeadlineSeconds: 60 },
      cloudflaredRestart: 'true',
    });
  });
  after(async () => {
    await rig?.close();
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
    await rig!.killAndRestart();

    const s2 = await waitFor('v2 to be settled', v2.sagaId, (s) => s.events.some((e) => e.action === 'runtime.recovered'));
    expect(s2.saga.status).to.equal('interrupted');
    expect(s2.events.find((e) => e.action === 'runtime.recovered')!.message).to.match(/removed the 1 container/);
    const left = await appContainers(app);
    expect(left.map((c) => c.Labels['norn.commit'])).to.deep.equal([v1.sha]);
    expect(await answerAt(oldAddress)).to.equal('v1');
    expect(fs.readFileSync(rig!.cloudflaredConfig, 'utf8')).to.contain(`service: http://${oldAddress}`);

    // The stage died with the killed receiver: nothing waits for a decision here.
    const promote = await rig!.api(`/api/apps/${app}/canary/promote`, { method: 'POST', body: '{}' });
    expect(promote.status).to.equal(409);
    expect(((await promote.json()) as { error: string }).error).to.contain('no canary stage in this receiver');
  });
});
