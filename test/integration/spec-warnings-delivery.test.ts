// A push to an app whose spec Norn would accept but that carries a typo: the app still deploys, and the typo's
// warning (with the field it was meant to be) is in the delivery trace and at the start of the saga.
import { expect } from 'chai';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

describe('spec warnings in the delivery trace and the saga', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo('typo');
    svc = await startTestService({ specs: { typo: { ...specFor('typo', repo.url), deployPolicy: {}, snapshot: { keep: 2 } } } });
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('queues the app and names each warning in the trace and the saga', async () => {
    const sha = repo.commit({ 'README.md': 'typo' }, 'first');
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    expect(res.status).to.equal(202);
    const { deliveryId } = res.body as { deliveryId: string };
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;

    const { delivery } = (await (await svc.api(`/api/deliveries/${deliveryId}`)).json()) as {
      delivery: { trace: { specWarnings?: { app: string; path: string; reason: string }[] } };
    };
    expect(delivery.trace.specWarnings!.map((w) => `${w.app} ${w.path}`)).to.deep.equal(['typo snapshot', 'typo deployPolicy']);
    expect(delivery.trace.specWarnings![0]!.reason).to.equal('unknown field "snapshot" is ignored (did you mean "snapshots"?)');

    const events = await eventually('the spec warnings in the saga', async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: { action: string; message: string }[] };
      return s.events.some((e) => e.action === 'spec.warnings') ? s.events : undefined;
    });
    const warning = events.find((e) => e.action === 'spec.warnings')!;
    expect(warning.message).to.match(/^spec of typo: 2 warning\(s\): snapshot: unknown field "snapshot" is ignored .*; deployPolicy: is empty: autoRollback stays true/);
  });
});
