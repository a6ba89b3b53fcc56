// Step 3: run `build.test` in a container from the image the build step made. The checkout is mounted read-only
// at /src (NORN_SOURCE=/src) while the image's own WORKDIR stays the working directory, so the command runs
// against what was built (installed dependencies, compiled output) and can still read the raw source.
// No network by default, a time limit, and the exit code decides. The container is removed whatever happens.
// With `build.testTarget` the command runs in that Dockerfile stage instead (built by the build step as
// `testImage`, with the toolchain a slim runtime image lacks); that image is removed after the run.
// The bind mount needs the engine to see the work dir: true for a local engine, not for a remote one.
import { realpath } from 'node:fs/promises';
import { StepFailedError, UpstreamError, errorMessage } from '../../errors.js';
import type { DockerEngine } from '../../integrations/docker/docker-engine.js';
import { OutputRelay } from '../../integrations/docker/output-relay.js';
import { done, skipped, type Step, type StepContext, type StepResult } from '../step.js';

export interface TestStepConfig {
  readonly testTimeoutMs: number;
  /** Network of the test container; `none` by default so tests cannot reach production services. */
  readonly testNetwork?: string;
  readonly reportIntervalMs?: number;
}

export const SOURCE_MOUNT = '/src';
const TAIL_LINES = 50;

export function testStep(config: TestStepConfig, deps: { docker: DockerEngine; now?: () => number }): Step {
  const now = deps.now ?? Date.now;

  return {
    name: 'test',
    async run(ctx) {
      const command = ctx.spec.build?.test;
      if (!command) return skipped(ctx.spec.build ? 'no build.test in the spec' : 'no build section');
      const testImage = ctx.outputs.testImage;
      const image = testImage ?? ctx.outputs.imageTag;
      if (!image) throw new StepFailedError('test', 'no image to test: the build step produced none');
      try {
        return await runTest(ctx, command, image);
      } finally {
        if (testImage) await deps.docker.removeImage(testImage).catch(() => undefined);
      }
    },
  };

  async function runTest(ctx: StepContext, command: string, image: string): Promise<StepResult> {
    const workDir = ctx.outputs.workDir;
    if (!workDir) throw new StepFailedError('test', 'no checkout to mount: the clone step gave no workDir');

    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    ctx.report(`running \`${command}\` in ${image} (time limit ${seconds(config.testTimeoutMs)})`);
    const relay = new OutputRelay(
      { intervalMs: config.reportIntervalMs ?? 500, tailLines: TAIL_LINES },
      { report: (message, metadata) => ctx.report(message, { metadata: { ...metadata, output: true } }), now },
    );
    const started = now();
    let outcome;
    try {
      outcome = await deps.docker.run(
        {
          image,
          command,
          binds: [`${await realpath(workDir)}:${SOURCE_MOUNT}:ro`],
          env: { NORN_SOURCE: SOURCE_MOUNT, CI: 'true' },
          labels: { 'norn.saga': ctx.sagaId, 'norn.app': ctx.app, 'norn.step': 'test' },
          networkMode: config.testNetwork ?? 'none',
          timeoutMs: config.testTimeoutMs,
          signal: ctx.signal,
        },
        (text, stream) => relay.write(text, stream),
      );
    } catch (err) {
      relay.close();
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      const reason = err instanceof UpstreamError ? err.upstreamMessage : errorMessage(err);
      const hint = /\/bin\/sh.*no such file|no such file.*\/bin\/sh/i.test(reason) ? ` (${image} has no /bin/sh: ${TARGET_HINT})` : '';
      throw new StepFailedError('test', `could not run the test command: ${reason}${hint}`, { image, tail: relay.tail() }, { cause: err });
    }
    relay.close();
    const took = seconds(now() - started);
    if (outcome.timedOut) {
      throw new StepFailedError('test', `test command timed out after ${seconds(config.testTimeoutMs)}`, {
        timeoutMs: config.testTimeoutMs,
        tail: relay.tail(),
      });
    }
    if (outcome.exitCode === 127) {
      throw new StepFailedError('test', `test command not found in ${image} (exit code 127): \`${command}\` runs inside the image, not on the host; ${ctx.spec.build?.testTarget ? 'make sure that stage has the tool installed' : TARGET_HINT}`, {
        exitCode: 127,
        tail: relay.tail(),
      });
    }
    if (outcome.exitCode !== 0) {
      throw new StepFailedError('test', `test command exited with code ${outcome.exitCode} after ${took}`, {
        exitCode: outcome.exitCode,
        tail: relay.tail(),
      });
    }
    return done({}, `tests passed in ${took}`);
  }
}

const TARGET_HINT = 'a slim runtime image often lacks the toolchain; set build.testTarget to the Dockerfile stage that has it (e.g. the build stage) and the test runs there';
