// The clone step against real bare repositories and the real git client: the work dir holds exactly the pushed
// commit, with and without the repository cache, and every way a fetch can go wrong ends the step with a message
// that says what to check. An aborted deploy stops git instead of waiting for it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { AppSpec } from '../../../../src/apps/infraspec-schema.js';
import { StepFailedError } from '../../../../src/errors.js';
import { GitClient } from '../../../../src/integrations/git/git-client.js';
import { RepoCache } from '../../../../src/integrations/git/repo-cache.js';
import { cloneStep } from '../../../../src/pipeline/steps/clone.js';
import type { StepContext } from '../../../../src/pipeline/step.js';
import { createTestRepo, type TestRepo } from '../../../support/git-repos.js';
import { startSilentRemote, type SilentRemote } from '../../../support/silent-remote.js';

const MB = 1024 * 1024;
const spec = { name: 'shop', repo: { url: 'set-by-the-deploy' } } as unknown as AppSpec;

function context(over: Partial<StepContext> & Pick<StepContext, 'cloneUrl' | 'commitSha'>): { ctx: StepContext; reports: string[] } {
  const reports: string[] = [];
  const ctx: StepContext = {
    sagaId: 'saga-1',
    app: 'shop',
    spec,
    specDir: '/nonexistent/apps/shop',
    ref: 'refs/heads/main',
    signal: new AbortController().signal,
    outputs: {},
    report: (message) => void reports.push(message),
    ...over,
  };
  return { ctx, reports };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('the clone step succeeded'),
    (err: unknown) => err,
  );
}

describe('the clone step (real git)', function () {
  this.timeout(60_000);
  const git = new GitClient({ knownHostsPath: '/dev/null' });
  let repo: TestRepo;
  let scratch: string;
  let workRoot: string;
  let cache: RepoCache;
  beforeEach(() => {
    repo = createTestRepo('shop');
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-step-'));
    workRoot = path.join(scratch, 'work');
    cache = new RepoCache({ dir: path.join(scratch, 'cache'), maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
  });
  afterEach(() => {
    repo.remove();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  for (const via of ['without the repository cache', 'through the repository cache'] as const) {
    const step = () => cloneStep({ git, workRoot, cache: via === 'through the repository cache' ? cache : undefined });

    describe(via, () => {
      it('checks out the pushed commit, not the branch tip, into a work dir named after the saga', async () => {
        const pushed = repo.commit({ 'app.js': 'console.log("pushed")\n', 'lib/util.js': 'export {}\n' });
        repo.commit({ 'app.js': 'console.log("later")\n', 'later.txt': 'x' });
        const { ctx, reports } = context({ cloneUrl: repo.url, commitSha: pushed });

        const result = await step().run(ctx);

        const workDir = path.join(workRoot, 'saga-1');
        expect(result).to.deep.include({ status: 'complete', outputs: { workDir } });
        expect(fs.readFileSync(path.join(workDir, 'app.js'), 'utf8')).to.equal('console.log("pushed")\n');
        expect(fs.existsSync(path.join(workDir, 'lib', 'util.js'))).to.equal(true);
        expect(fs.existsSync(path.join(workDir, 'later.txt'))).to.equal(false);
        expect(reports.join('\n')).to.contain(`checked out ${pushed.slice(0, 12)} from ${repo.url}`);
      });

      it('replaces what an earlier attempt of the same saga left in the work dir', async () => {
        const sha = repo.commit({ 'app.js': 'v1\n' });
        fs.mkdirSync(path.join(workRoot, 'saga-1'), { recursive: true });
        fs.writeFileSync(path.join(workRoot, 'saga-1', 'stale.txt'), 'from a crashed attempt');

        await step().run(context({ cloneUrl: repo.url, commitSha: sha }).ctx);

        expect(fs.readdirSync(path.join(workRoot, 'saga-1'))).to.not.include('stale.txt');
      });

      it('refuses a commit the remote does not have, saying which and that the app directory is not deployed instead', async () => {
        repo.commit({ 'app.js': 'v1\n' });
        const missing = 'f'.repeat(40);

        const err = await failure(step().run(context({ cloneUrl: repo.url, commitSha: missing }).ctx));

        expect(err).to.be.instanceOf(StepFailedError);
        expect((err as StepFailedError).step).to.equal('clone');
        expect((err as Error).message)
          .to.contain(`could not fetch ${missing.slice(0, 12)} from ${repo.url}`)
          .and.contain('the remote does not have that commit')
          .and.contain('not deployed instead');
      });

      it('fails with a message naming the remote and repo.url when there is no repository there', async () => {
        const sha = repo.commit({ 'app.js': 'v1\n' });
        const nowhere = `file://${path.join(scratch, 'no-such-repo.git')}`;

        const err = await failure(step().run(context({ cloneUrl: nowhere, commitSha: sha }).ctx));

        expect(err).to.be.instanceOf(StepFailedError);
        expect((err as Error).message).to.contain(`from ${nowhere}`).and.contain('the remote has no such repository: check repo.url');
        expect((err as StepFailedError).detail).to.deep.equal({ cloneUrl: nowhere });
      });

      it('stops git when the deploy is aborted and ends with the abort, not a clone failure', async () => {
        const remote: SilentRemote = await startSilentRemote();
        try {
          const controller = new AbortController();
          const reason = new Error('deploy cancelled');
          const { ctx } = context({ cloneUrl: `http://127.0.0.1:${remote.port}/shop.git`, commitSha: 'a'.repeat(40), signal: controller.signal });
          const running = failure(step().run(ctx));
          // Abort only once git is talking to the remote, so it is the running fetch that has to stop.
          while (remote.accepted() === 0) await new Promise((r) => setTimeout(r, 20));
          controller.abort(reason);

          expect(await running).to.equal(reason);
        } finally {
          await remote.close();
        }
      });
    });
  }

  it('says when the repository cache was used and when it was filled', async () => {
    const first = repo.commit({ 'app.js': 'v1\n' });
    const second = repo.commit({ 'app.js': 'v2\n' });
    const step = cloneStep({ git, workRoot, cache });

    const one = context({ sagaId: 'saga-1', cloneUrl: repo.url, commitSha: first });
    await step.run(one.ctx);
    const two = context({ sagaId: 'saga-2', cloneUrl: repo.url, commitSha: second });
    await step.run(two.ctx);

    expect(one.reports.join('\n')).to.contain('into a new repository cache; wrote the whole work tree');
    expect(two.reports.join('\n')).to.contain('through the repository cache; wrote the whole work tree: another deploy of this repository has the cached one');
    expect(fs.readFileSync(path.join(workRoot, 'saga-2', 'app.js'), 'utf8')).to.equal('v2\n');
  });

  it('updates the work tree the previous deploy gave back, saying how many files it wrote', async () => {
    const first = repo.commit({ 'app.js': 'v1\n', 'lib/util.js': 'export {}\n' });
    const second = repo.commit({ 'app.js': 'v2\n' });
    const step = cloneStep({ git, workRoot, cache });
    await step.run(context({ sagaId: 'saga-1', cloneUrl: repo.url, commitSha: first }).ctx);
    expect(await cache.giveBack(repo.url, path.join(workRoot, 'saga-1'))).to.equal(true);

    const two = context({ sagaId: 'saga-2', cloneUrl: repo.url, commitSha: second });
    await step.run(two.ctx);

    expect(two.reports.join('\n')).to.contain(`checked out ${second.slice(0, 12)} from ${repo.url} through the repository cache; updated the cached work tree: 1 file written or removed`);
    expect(fs.readdirSync(path.join(workRoot, 'saga-2')).sort()).to.deep.equal(['app.js', 'lib']);
    expect(fs.readFileSync(path.join(workRoot, 'saga-2', 'app.js'), 'utf8')).to.equal('v2\n');
  });
});
