// kill -9 of a receiver in the middle of a Docker-runtime deploy, then a restart: the interrupted deploy is
// recorded as such with what the runtime kept, and exactly one version's containers run. Killed during the
// health gate, the new containers go and the old version keeps serving; killed once the ingress routes to the new
// version (while cloudflared reloads), the replacement is finished and the new version serves.
import fs from 'node:fs';
import { expect } from 'chai';
import { startDockerCrashReceiver, type DockerCrashReceiver } from '../support/docker-crash-receiver.js';
import { answerAt, appContainers, webAppFiles } from '../support/docker-runtime-app.js';
import { nonce } from '../support/docker-fixture.js';
import { eventually } from '../support/test-service.js';

interface SagaAnswer {
  saga: { status: string; error: string | null };
  events: { action: string; message: string; metadata: { instances?: { address?: string }[] } }[];
}

describe('crash: kill -9 during a Docker-runtime deploy', function () {
  this.timeout(300_000);
  const app = `dkc-${nonce()}`;
  let rig: DockerCrashReceiver | undefined;
  const config = () => fs.readFileSync(rig!.cloudflaredConfig, 'utf8');

  const push = (files: Record<string, string>) => rig!.push(files);
  const waitFor = (what: string, id: string, ok: (s: SagaAnswer) => boolean) => rig!.waitFor(what, id, ok);
  const killAndRestart = () => rig!.killAndRestart();
  /** Every container of the app, as the commits they run; answers of each at its address. */
  const running = async () => {
    const containers = await appContainers(app);
    return { commits: containers.map((c) => c.Labels['norn.commit']), address: `127.0.0.1:${containers[0]?.Labels['norn.host-port']}` };
  };

  before(async () => {
    rig = await startDockerCrashReceiver({
      app,
      gate: { minHealthySeconds: 4, healthyDeadlineSeconds: 30 },
      // A slow reload holds the deploy in forge, after the gate passed, long enough to kill it there.
      cloudflaredRestart: 'sleep 4',
    });
  });
  after(async () => {
    await rig?.close();
  });

  it('leaves one version running and records what it kept, killed during the gate and after it', async () => {
    const v1 = await push(webAppFiles('v1'));
    const s1 = await waitFor('v1 to end', v1.sagaId, (s) => !['queued', 'running'].includes(s.saga.status));
    expect(s1.saga.status, s1.saga.error ?? '').to.equal('succeeded');
    // forge routed the app's hostname to the instance's address.
    expect(config()).to.contain(`service: http://${(await running()).address}`);

    // Killed while v2's containers are in their health gate.
    const v2 = await push(webAppFiles('v2'));
    await waitFor('v2 to start its containers', v2.sagaId, (s) => s.events.some((e) => e.action === 'runtime.started'));
    await killAndRestart();
    const s2 = await waitFor('v2 to be settled', v2.sagaId, (s) => s.events.some((e) => e.action === 'runtime.recovered'));
    expect(s2.saga.status).to.equal('interrupted');
    expect(s2.events.find((e) => e.action === 'runtime.recovered')!.message).to.match(/removed the 1 container/);
    const afterV2 = await running();
    expect(afterV2.commits).to.deep.equal([v1.sha]);
    expect(await answerAt(afterV2.address)).to.equal('v1');

    // Killed after v3 passed its gate and the ingress was pointed at it, while cloudflared reloads: v3 is kept,
    // v1 goes.
    const v3 = await push(webAppFiles('v3'));
    const started = await waitFor('v3 to pass its gate', v3.sagaId, (s) => s.events.some((e) => e.action === 'runtime.healthy'));
    const v3Address = started.events.find((e) => e.action === 'runtime.started')!.metadata.instances![0]!.address!;
    await eventually('the ingress to route to v3', async () => (config().includes(`http://${v3Address}`) ? true : undefined), 30_000);
    await killAndRestart();
    const s3 = await waitFor('v3 to be settled', v3.sagaId, (s) => s.events.some((e) => e.action === 'runtime.recovered'));
    expect(s3.saga.status).to.equal('interrupted');
    expect(s3.events.find((e) => e.action === 'runtime.recovered')!.message).to.match(/were kept \(the ingress already routed to them\); 1 old one/);
    const afterV3 = await running();
    expect(afterV3.commits).to.deep.equal([v3.sha]);
    expect(await answerAt(afterV3.address)).to.equal('v3');
    expect(config()).to.contain(`service: http://${afterV3.address}`);
  });
});
