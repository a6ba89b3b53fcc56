// The cleanup step removes what a deploy left on disk and the test image, and never fails the deploy for
// something already gone or an engine that does not answer. The runner runs it after a failed step too: shown
// here with the real clone step fetching from a real bare repository.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import type { AppSpec } from '../../../../src/apps/infraspec-schema.js';
import { StepFailedError } from '../../../../src/errors.js';
import { GitClient } from '../../../../src/integrations/git/git-client.js';
import { RepoCache } from '../../../../src/integrations/git/repo-cache.js';
import { runPipeline } from '../../../../src/pipeline/run-pipeline.js';
import { cleanupStep } from '../../../../src/pipeline/steps/cleanup.js';
import { cloneStep } from '../../../../src/pipeline/steps/clone.js';
import { done, type StepContext, type StepOutputs } from '../../../../src/pipeline/step.js';
import { FakeDockerEngine } from '../../../fakes/fake-docker-engine.js';
import { RecordingPipelineReporter } from '../../../fakes/recording-pipeline-reporter.js';
import { createTestRepo } from '../../../support/git-repos.js';

const spec = { name: 'shop' } as unknown as AppSpec;

function context(sagaId: string, outputs: StepOutputs, over: Partial<StepContext> = {}): StepContext {
  return { sagaId, app: 'shop', spec, specDir: '', ref: 'refs/heads/main', commitSha: 'a'.repeat(40), cloneUrl: '', signal: new AbortController().signal, outputs, report: () => undefined, ...over };
}

describe('the cleanup step', () => {
  let workRoot: string;
  let docker: FakeDockerEngine;
  beforeEach(() => {
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cleanup-step-'));
    docker = new FakeDockerEngine();
  });
  afterEach(() => fs.rmSync(workRoot, { recursive: true, force: true }));

  function leaveWorkDir(sagaId: string): string {
    const dir = path.join(workRoot, sagaId);
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'app.js'), 'console.log(1)\n');
    return dir;
  }

  it('removes the work dir and the test image the build left, and only those', async () => {
    const dir = leaveWorkDir('saga-1');
    const other = leaveWorkDir('saga-2');

    const result = await cleanupStep({ workRoot, docker }).run(context('saga-1', { workDir: dir, imageTag: 'shop:abc', testImage: 'shop:abc-test' }));

    expect(result).to.deep.include({ status: 'complete', message: 'work dir removed' });
    expect(fs.existsSync(dir)).to.equal(false);
    expect(fs.existsSync(other), 'another deploy\'s work dir').to.equal(true);
    expect(docker.removeImageCalls).to.deep.equal(['shop:abc-test']);
  });

  it('leaves images alone when the build made no test image', async () => {
    leaveWorkDir('saga-1');
    await cleanupStep({ workRoot, docker }).run(context('saga-1', { imageTag: 'shop:abc' }));
    expect(docker.removeImageCalls).to.deep.equal([]);
  });

  it('completes, saying so, when the work dir is already gone', async () => {
    const result = await cleanupStep({ workRoot, docker }).run(context('saga-1', { testImage: 'shop:abc-test' }));
    expect(result).to.deep.include({ status: 'complete', message: 'no work dir to remove' });
    expect(docker.removeImageCalls).to.deep.equal(['shop:abc-test']);
  });

  it('does not fail the deploy when the engine cannot remove the test image', async () => {
    const dir = leaveWorkDir('saga-1');
    docker.stopEngine();
    const result = await cleanupStep({ workRoot, docker }).run(context('saga-1', { testImage: 'shop:abc-test' }));
    expect(result.status).to.equal('complete');
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it('removes nothing outside the work root, whatever the saga id says', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cleanup-outside-'));
    try {
      const sagaId = path.relative(workRoot, outside);
      await cleanupStep({ workRoot, docker }).run(context(sagaId, {}));
      expect(fs.existsSync(outside)).to.equal(true);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('gives the repository cache\'s work tree back for the next deploy, and removes a work dir that is not it', async function () {
    this.timeout(60_000);
    const repo = createTestRepo('shop');
    const cache = new RepoCache({ dir: path.join(workRoot, '..', `${path.basename(workRoot)}-cache`), maxBytes: 100 * 1024 * 1024, lockTimeoutMs: 30_000 }, { git: new GitClient({ knownHostsPath: '/dev/null' }) });
    try {
      const first = repo.commit({ 'app.js': 'console.log(1)\n' });
      const clone = cloneStep({ git: new GitClient({ knownHostsPath: '/dev/null' }), workRoot, cache });
      const cleanup = cleanupStep({ workRoot, docker, cache });
      await clone.run(context('saga-1', {}, { cloneUrl: repo.url, commitSha: first }));
      // saga-2 runs while saga-1 has the tree: it gets a full one of its own.
      await clone.run(context('saga-2', {}, { cloneUrl: repo.url, commitSha: first }));

      expect(await cleanup.run(context('saga-2', { testImage: 'shop:abc-test' }, { cloneUrl: repo.url }))).to.deep.include({ status: 'complete', message: 'work dir removed' });
      expect(await cleanup.run(context('saga-1', { testImage: 'shop:abc-test' }, { cloneUrl: repo.url }))).to.deep.include({
        status: 'complete',
        message: 'work dir given back to the repository cache',
      });
      expect(fs.readdirSync(workRoot)).to.deep.equal([]);
      expect(docker.removeImageCalls).to.deep.equal(['shop:abc-test', 'shop:abc-test']);

      const reports: string[] = [];
      await clone.run(context('saga-3', {}, { cloneUrl: repo.url, commitSha: repo.commit({ 'app.js': 'console.log(3)\n' }), report: (m) => void reports.push(m) }));
      expect(reports.join('\n')).to.contain('updated the cached work tree: 1 file written or removed');
      expect(fs.readFileSync(path.join(workRoot, 'saga-3', 'app.js'), 'utf8')).to.equal('console.log(3)\n');
    } finally {
      repo.remove();
      fs.rmSync(path.join(workRoot, '..', `${path.basename(workRoot)}-cache`), { recursive: true, force: true });
    }
  });

  it('runs after a step failed, removing the checkout and the test image of that deploy', async function () {
    this.timeout(60_000);
    const repo = createTestRepo('shop');
    try {
      const sha = repo.commit({ 'app.js': 'console.log(1)\n' });
      const report = new RecordingPipelineReporter();
      let checkout: string | undefined;
      const outcome = await runPipeline(
        {
          run: { id: 'saga-1', app: 'shop', ref: 'refs/heads/main', commitSha: sha, cloneUrl: repo.url },
          spec,
          specDir: '',
          steps: [
            cloneStep({ git: new GitClient({ knownHostsPath: '/dev/null' }), workRoot }),
            { name: 'build', run: async (ctx) => ((checkout = ctx.outputs.workDir), done({ imageTag: 'shop:abc', testImage: 'shop:abc-test' })) },
            {
              name: 'test',
              run: async () => {
                throw new StepFailedError('test', 'npm test exited with 1');
              },
            },
          ],
          cleanup: cleanupStep({ workRoot, docker }),
          signal: new AbortController().signal,
        },
        { report, log: pino({ level: 'silent' }), timeoutMs: () => 30_000 },
      );

      expect(outcome).to.deep.include({ status: 'failed', step: 'test', error: 'npm test exited with 1' });
      expect(report.endOf('cleanup')).to.deep.include({ status: 'complete', message: 'work dir removed' });
      expect(checkout).to.equal(path.join(workRoot, 'saga-1'));
      expect(fs.existsSync(checkout!)).to.equal(false);
      expect(docker.removeImageCalls).to.deep.equal(['shop:abc-test']);
    } finally {
      repo.remove();
    }
  });
});
