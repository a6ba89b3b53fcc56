// A receiver that shuts down must not wait for an operator's `norn logs -f`: the follow never ends by itself, and
// the HTTP server's close waits for every open answer. The stream ends with a last line saying why, and the
// receiver's Nomad log followers are closed with it.
import { expect } from 'chai';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { nonce } from '../support/docker-fixture.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

describe('a receiver shutting down while an operator follows logs', function () {
  this.timeout(120_000);
  const app = `nshut-${nonce()}`;
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo(app);
    svc = await startTestService({
      env: { NORN_DOCKER_MIN_HEALTHY_SECONDS: '1', NORN_HEALTHY_DEADLINE_SECONDS: '10' },
      specs: { [app]: { ...specFor(app, repo.url), processes: { web: { port: 8080, health: { path: '/health' } } } } },
    });
    const sha = repo.commit({ 'README.md': `${nonce()}\n` });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const saga = await eventually(`deploy ${sagaId} to end`, async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null } };
      return ['queued', 'running'].includes(s.saga.status) ? undefined : s.saga;
    }, 60_000);
    expect(saga.status, saga.error ?? '').to.equal('succeeded');
  });
  after(async () => {
    await svc?.close().catch(() => undefined);
    repo?.remove();
  });

  it('ends the follow with a line saying so, closes Nomad\'s streams, and finishes closing', async () => {
    const [alloc] = svc.nomad.allocations(app).filter((a) => a.DesiredStatus === 'run');
    const res = await fetch(`${svc.url}/api/apps/${app}/logs?follow=true&tail=1`, { headers: svc.authHeaders });
    expect(res.status).to.equal(200);
    await eventually('the receiver to follow the task\'s streams', async () => (svc.nomad.logFollowers(alloc!.ID, 'web', 'stdout') === 1 ? true : undefined));
    const body = res.text();

    // A hang is the failure here, so the bound is generous; a working close takes well under a second.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      svc.service.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still closing after 30 s'), 30_000))),
    ]);
    clearTimeout(timer);
    expect(outcome).to.equal('closed');

    const lines = (await body).trim().split('\n').map((l) => JSON.parse(l) as { error?: string });
    expect(lines.at(-1)?.error).to.match(/receiver is shutting down.*norn logs/);
    await eventually('no log follower left at Nomad', async () => (svc.nomad.logFollowers(alloc!.ID, 'web', 'stdout') + svc.nomad.logFollowers(alloc!.ID, 'web', 'stderr') === 0 ? true : undefined));
  });
});
