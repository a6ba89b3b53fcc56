// An app without `repo` deploys its own directory, as in Norn v2: `POST /api/apps/:app/deploy` pins the deploy to
// the digest of the directory's content, the clone step copies it, and the image is built from the copy. A ref
// cannot be asked for, and a directory edited after queueing is refused. The spec also carries an unknown key,
// whose warning the saga records.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { infraspecSchema } from '../../src/apps/infraspec-schema.js';
import { GitClient } from '../../src/integrations/git/git-client.js';
import { cloneStep } from '../../src/pipeline/steps/clone.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { eventually, startTestService, type TestService } from '../support/test-service.js';
import { expectSubsequence } from '../support/subsequence.js';

interface SagaAnswer {
  saga: { status: string; imageTag: string | null; error: string | null; commitSha: string; ref: string };
  events: { action: string; message: string; metadata: { step?: string } }[];
}

describe('an app without repo deploys its own directory (real Docker engine)', function () {
  this.timeout(120_000);
  let svc: TestService;
  const app = `localapp-${Date.now().toString(36)}`;

  before(async () => {
    await requireDocker();
    svc = await startTestService({
      env: { DOCKER_HOST: dockerHost() },
      specs: { [app]: { name: app, build: { dockerfile: 'Dockerfile' }, processes: { web: { port: 8080, command: 'httpd -f -p 8080' } }, replicas: 2 } },
    });
    fs.writeFileSync(path.join(svc.appsDir, app, 'Dockerfile'), 'FROM norn-base:latest\nCOPY page.txt /page.txt\n');
    fs.writeFileSync(path.join(svc.appsDir, app, 'page.txt'), 'from the apps dir\n');
  });
  after(() => svc?.close());

  const deploy = (body: unknown) =>
    svc.api(`/api/apps/${app}/deploy`, { method: 'POST', body: JSON.stringify(body) });

  const ended = (sagaId: string) =>
    eventually('the deploy to end', async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as SagaAnswer;
      return s.saga.status === 'running' || s.saga.status === 'queued' ? undefined : s;
    }, 100_000);

  it('copies the directory, builds it, and records the spec warnings in the saga', async () => {
    const res = await deploy({});
    const body = (await res.json()) as { deploys: { sagaId: string; ref: string; commitSha: string }[] };
    expect(res.status, JSON.stringify(body)).to.equal(202);
    const { sagaId, ref, commitSha } = body.deploys[0]!;
    expect(ref).to.equal('local');
    expect(commitSha).to.match(/^[0-9a-f]{64}$/);
    const saga = await ended(sagaId);
    const actions = saga.events.map((e) => `${e.action}:${e.metadata.step ?? ''}`);
    expectSubsequence(actions, ['deploy.start:', 'spec.warnings:', 'step.complete:clone', 'step.complete:build']);
    expect(saga.events.find((e) => e.action === 'spec.warnings')!.message).to.include('unknown field "replicas" is ignored');
    expect(saga.events.map((e) => e.message).join('\n')).to.include(`copied ${path.join(svc.appsDir, app)} (no repo in the spec`);
    expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
    expect(saga.saga.imageTag).to.equal(`${app}:${commitSha.slice(0, 12)}`);
  });

  it('fails the clone, and deploys nothing, when the directory changed after the deploy was queued', async () => {
    const step = cloneStep({ git: new GitClient({ knownHostsPath: '/dev/null' }), workRoot: path.join(svc.dataDir, 'work') });
    const spec = infraspecSchema.parse({ name: app, build: {}, processes: { web: {} } });
    const ctx = {
      sagaId: `local-${Date.now()}`, app, spec, specDir: path.join(svc.appsDir, app), ref: 'local', commitSha: 'a'.repeat(64), cloneUrl: '',
      signal: new AbortController().signal, outputs: {}, report: () => undefined,
    };
    const err = await step.run(ctx).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/changed after this deploy was queued; deploy again/);
  });

  it('refuses a ref: the directory has no history to pick from', async () => {
    const res = await deploy({ ref: 'main' });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.match(/has no repo: it deploys its own directory .* no ref applies/);
  });
});
