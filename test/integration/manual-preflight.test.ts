// `norn preflight <app> [ref]` / `POST /api/apps/:app/preflight`: the pull-request preflight on demand, on the real
// Docker engine and a real git repository. It clones the ref (default: the tracked branch), builds without pushing,
// tests, plans with Nomad, registers nothing, and becomes nobody's "current image".
import { expect } from 'chai';
import { preflightCommandWith } from '../../src/cli/preflight-command.js';
import type { ForgeSimulator } from '../support/forge-simulator.js';
import type { TestRepo } from '../support/git-repos.js';
import { startPreflightService, type PreflightService } from '../support/preflight-service.js';
import { githubPullRequest, post } from '../support/signed-delivery.js';
import { eventually, TEST_SECRET, type TestService } from '../support/test-service.js';
import { expectSubsequence } from '../support/subsequence.js';
import { frameSteps, lastFrame } from '../support/tty-frame.js';
import { captureIo } from '../fakes/capture-io.js';

const preflight = preflightCommandWith({ retryDelaysMs: [20, 50, 100, 200] });

interface SagaAnswer {
  saga: { kind: string; trigger: string; status: string; ref: string; commitSha: string; steps: string[] } | null;
  events: { action: string; message: string; metadata: { step?: string } }[];
}

describe('manual preflight (norn preflight)', function () {
  this.timeout(180_000);
  let preflights: PreflightService | undefined;
  let repo: TestRepo;
  let svc: TestService;
  let sim: ForgeSimulator;
  let mainSha: string;
  let firstSagaId: string;

  before(async () => {
    preflights = await startPreflightService('manualpf');
    ({ repo, svc, sim, mainSha } = preflights);
  });
  after(async () => {
    await preflights?.close();
  });

  const env = () => ({ NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir });
  const saga = async (id: string) => (await (await svc.api(`/api/sagas/${id}`)).json()) as SagaAnswer;

  it('checks the tracked branch by default, follows it live and exits 0, registering nothing', async () => {
    const c = captureIo();
    const code = await preflight(['manualpf'], env(), c.io);
    expect(code, c.err() + c.out()).to.equal(0);
    const lines = c.lines();
    expect(lines[0]).to.match(new RegExp(`^queued manualpf refs/heads/main @ ${mainSha.slice(0, 12)} \\(saga [0-9a-f-]{36}\\)$`));
    expect(lines.some((l) => /^✓ preflight passed in /.test(l))).to.equal(true);
    expect(lines.at(-1)).to.match(/^image manualpf:[0-9a-f]{12} \(built to check, not pushed\)$/);

    const sagaId = /\(saga ([0-9a-f-]{36})\)/.exec(lines[0]!)![1]!;
    firstSagaId = sagaId;
    const answer = await saga(sagaId);
    expect(answer.saga).to.include({ kind: 'preflight', trigger: 'manual', status: 'succeeded', commitSha: mainSha });
    const steps = answer.events.filter((e) => e.action === 'step.complete').map((e) => e.metadata.step);
    expectSubsequence(steps as string[], ['clone', 'build', 'test', 'submit', 'cleanup']);
    for (const never of ['snapshot', 'migrate', 'healthy', 'forge']) expect(steps).to.not.include(never);
    expect(answer.events.some((e) => e.action === 'nomad.planned')).to.equal(true);
    expect(svc.nomad.requests.filter((r) => r.method !== 'GET' && r.path === '/v1/jobs')).to.deep.equal([]);
    // A preflight's image was never run nor pushed: the app still has no current image to roll back to or run.
    const app = (await (await svc.api('/api/apps/manualpf')).json()) as { currentImage: string | null };
    expect(app.currentImage).to.equal(null);
    // No forge has delivered this repository yet, so the receiver does not know where a status would go.
    expect(sim.statusesFor(mainSha)).to.deep.equal([]);
  });

  it('checks another branch, and exits 1 naming the step that failed', async () => {
    const broken = repo.commit({ 'check.sh': 'echo the check is broken >&2; exit 3\n' }, 'break the check', 'broken');
    const c = captureIo();
    const code = await preflight(['manualpf', 'broken'], env(), c.io);
    expect(code).to.equal(1);
    expect(c.lines()[0]).to.contain(`refs/heads/broken @ ${broken.slice(0, 12)}`);
    expect(c.lines().find((l) => l.startsWith('✗ failed'))).to.match(/^✗ failed at test: /);
  });

  it('on a terminal, draws the steps the receiver lists for a preflight, and no deploy steps', async () => {
    const c = captureIo({ isTTY: true });
    expect(await preflight(['manualpf', 'broken'], env(), c.io)).to.equal(1);
    const frame = lastFrame(c.out());
    const sagaId = /saga ([0-9a-f-]{36})/.exec(frame[0]!)![1]!;
    const answer = await saga(sagaId);
    expect(answer.saga!.steps).to.deep.equal(['clone', 'build', 'test', 'submit', 'cleanup']);
    expect(frameSteps(frame), frame.join('\n')).to.deep.equal(answer.saga!.steps);
    expect(frame.find((l) => l.includes(' submit'))).to.match(/^ {2}· submit +not run$/);
    expect(frame.at(-1)).to.match(/^✗ failed at test: /);
  });

  it('reports norn/preflight/<app> on the commit once a forge has delivered the app\'s repository', async () => {
    const head = repo.commit({ 'feature.txt': 'x' }, 'feature', 'feature');
    const pr = await post(`${svc.url}/api/webhooks/github`, githubPullRequest({ secret: TEST_SECRET, repoUrl: repo.url, sha: head }));
    expect(pr.status).to.equal(202);
    await eventually('the pull request\'s status', async () => sim.statusesFor(head, 'norn/preflight/manualpf').find((s) => s.state !== 'pending'), 100_000);

    const c = captureIo();
    expect(await preflight(['manualpf', 'main'], env(), c.io), c.err()).to.equal(0);
    const sagaId = /\(saga ([0-9a-f-]{36})\)/.exec(c.lines()[0]!)![1]!;
    const status = await eventually('the manual preflight\'s status', async () => sim.statusesFor(mainSha, 'norn/preflight/manualpf').find((s) => s.state !== 'pending'), 30_000);
    expect(status).to.include({ forge: 'github', state: 'success' });
    expect(status.description).to.contain('preflight passed');
    expect(status.targetUrl).to.contain(sagaId);
    // The first preflight of this same commit, before any forge delivery, reported nothing.
    expect(sim.statusesFor(mainSha).filter((s) => s.targetUrl?.includes(firstSagaId))).to.deep.equal([]);
  });

  it('refuses a hostile or unknown ref naming the field, and queues nothing', async () => {
    const before = ((await (await svc.api('/api/deploys?app=manualpf')).json()) as { deploys: unknown[] }).deploys.length;
    const ask = async (body: unknown) => {
      const res = await svc.api('/api/apps/manualpf/preflight', { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { error: string; field?: string } };
    };
    for (const ref of ['--upload-pack=touch /tmp/pwned', 'main;rm -rf /', '../../etc/passwd', 'a\u001b[2Jb']) {
      const answer = await ask({ ref });
      expect(answer.status, ref).to.equal(400);
      expect(answer.body.field, ref).to.equal('ref');
    }
    expect((await ask({ ref: 42 })).body).to.include({ field: 'ref' });
    const missing = await ask({ ref: 'no-such-branch' });
    expect(missing.status).to.equal(404);
    expect(missing.body).to.include({ field: 'ref' });
    expect(missing.body.error).to.contain("no-such-branch does not exist on the app's remote");
    expect((await svc.api('/api/apps/nope/preflight', { method: 'POST', body: '{}' })).status).to.equal(404);
    const after = ((await (await svc.api('/api/deploys?app=manualpf')).json()) as { deploys: unknown[] }).deploys.length;
    expect(after).to.equal(before);

    const c = captureIo();
    expect(await preflight(['manualpf', 'no-such-branch'], env(), c.io)).to.equal(1);
    expect(c.err()).to.contain("norn: ref: no-such-branch does not exist on the app's remote");
  });
});
