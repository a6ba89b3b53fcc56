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
import { runPipeline } from '../../../../src/pipeline/run-pipeline.js';
import { cleanupStep } from '../../../../src/pipeline/steps/cleanup.js';
import { cloneStep } from '../../../../src/pipeline/steps/clone.js';
import { done, type StepContext, type StepOutputs } from '../../../../src/pipeline/step.js';
import { FakeDockerEngine } from '../../../fakes/fake-docker-engine.js';
import { RecordingPipelineReporter } from '../../../fakes/recording-pipeline-reporter.js';
import { createTestRepo } from '../../../support/git-repos.js';

const spec = { name: 'shop' } as unknown as AppSpec;

function context(sagaId: string, outputs: StepOutputs): StepContext {
  return { sagaId, app: 'shop', spec, specDir: '', ref: 'refs/heads/main', commitSha: 'a'.repeat(40), cloneUrl: '', signal: new AbortController().signal, outputs, report: () => undefined };
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
