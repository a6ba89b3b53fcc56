import { expect } from 'chai';
import { InvalidInputError } from '../../../../src/errors.js';
import { DockerCanaries } from '../../../../src/runtime/docker/docker-canaries.js';

const group = (healthy: number) => ({ group: 'web', desiredCanaries: 1, placedCanaries: 1, healthy, unhealthy: 1 - healthy, desiredTotal: 2, promoted: false });

async function refusal(p: Promise<unknown>): Promise<InvalidInputError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(InvalidInputError);
  return err as InvalidInputError;
}

describe('DockerCanaries (the Docker runtime canary stages of this receiver)', () => {
  it('answers 409 for an app with no stage in this receiver, and shows none', async () => {
    const canaries = new DockerCanaries();
    expect(await canaries.latest('shop')).to.equal(null);
    const err = await refusal(canaries.promote('shop'));
    expect(err.status).to.equal(409);
    expect(err.message).to.contain('shop has no canary stage in this receiver');
  });

  it('refuses to promote canaries that have not passed their gate, but lets them be failed', async () => {
    const canaries = new DockerCanaries();
    const stage = canaries.open('shop', 'saga-1234567890', [group(0)]);
    expect((await canaries.latest('shop'))?.waitingForPromotion).to.equal(true);
    const err = await refusal(canaries.promote('shop'));
    expect(err.status).to.equal(409);
    expect(err.message).to.contain('have not passed their health check yet').and.contain('norn canary fail shop');

    const decision = await canaries.fail('shop');
    expect(decision.deploymentId).to.equal('saga-1234567890');
    expect(await stage.verdict).to.deep.equal({ outcome: 'failed', by: 'operator' });
    // One decision per stage: a second one is refused.
    expect((await refusal(canaries.fail('shop'))).status).to.equal(409);
  });

  it('hands an operator promotion to the waiting step and shows how the stage ended', async () => {
    const canaries = new DockerCanaries();
    const stage = canaries.open('shop', 'saga-1', [group(0)]);
    stage.update([group(1)], { ready: true, description: 'canaries healthy, waiting for promotion' });
    expect((await canaries.promote('shop')).message).to.contain('promoted the canaries of "web"');
    expect(await stage.verdict).to.deep.equal({ outcome: 'promoted', by: 'operator' });
    stage.close('successful', 'promoted; all 2 new container(s) healthy');
    const shown = await canaries.latest('shop');
    expect(shown).to.include({ id: 'saga-1', status: 'successful', waitingForPromotion: false });
    const err = await refusal(canaries.promote('shop'));
    expect(err.message).to.contain('no canary of shop waits for a decision').and.contain('promoted; all 2 new container(s) healthy');
  });
});
