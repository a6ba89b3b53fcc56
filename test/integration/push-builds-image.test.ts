// A signed push that builds the app's image on the real engine, tests it in a container and pushes it to the
// real registry.
import { expect } from 'chai';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { dockerHost, registryUrl, requireDocker, requireRegistry } from '../support/services.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { expectSubsequence } from '../support/subsequence.js';

describe('a push builds, tests and pushes the image (real Docker engine and registry)', function () {
  this.timeout(120_000);
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    await requireDocker();
    await requireRegistry();
    repo = createTestRepo('imgapp');
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('ends with the tag in the registry, and a failing test fails the deploy at test', async () => {
    const app = `imgapp-${Date.now().toString(36)}`;
    svc = await startTestService({
      env: { DOCKER_HOST: dockerHost(), NORN_REGISTRY_URL: registryUrl() },
      specs: {
        [app]: {
          name: app,
          repo: { url: repo.url, branch: 'main', autoDeploy: true },
          build: { dockerfile: 'Dockerfile', test: 'sh /src/check.sh' },
          processes: { web: { port: 8080, command: 'httpd -f -p 8080' } },
        },
      },
    });
    const sha = repo.commit({ Dockerfile: 'FROM norn-base:latest\nARG VERSION\nRUN echo "$VERSION" > /version\n', 'check.sh': 'test -s /version\n' });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    expect(res.status).to.equal(202);
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const saga = await eventually('the deploy to end', async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; imageTag: string | null; error: string | null }; events: { action: string; metadata: { step?: string } }[] };
      return s.saga.status === 'running' || s.saga.status === 'queued' ? undefined : s;
    }, 100_000);
    expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
    expect(saga.saga.imageTag).to.equal(`${registryUrl()}/${app}:${sha.slice(0, 12)}`);
    expectSubsequence(saga.events.map((e) => `${e.action}:${e.metadata.step ?? ''}`), ['step.complete:clone', 'step.complete:build', 'step.complete:test', 'step.complete:cleanup']);
    const tags = (await (await fetch(`http://${registryUrl()}/v2/${app}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).to.include(sha.slice(0, 12));

    const broken = repo.commit({ 'check.sh': 'echo "assertion failed" >&2; exit 3\n' });
    const res2 = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: broken }));
    const sagaId2 = (res2.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const failed = await eventually('the second deploy to end', async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId2}`)).json()) as { saga: { status: string; error: string | null } };
      return s.saga.status === 'running' || s.saga.status === 'queued' ? undefined : s;
    }, 100_000);
    expect(failed.saga.status).to.equal('failed');
    expect(failed.saga.error).to.match(/^test: .*code 3/);
  });
});
