// The test step against the real engine: the command runs in the built image with the checkout at /src.
import { expect } from 'chai';
import { StepFailedError } from '../../src/errors.js';
import { createDockerClient } from '../../src/integrations/docker/create-docker-client.js';
import { buildStep } from '../../src/pipeline/steps/build.js';
import { testStep } from '../../src/pipeline/steps/test.js';
import { BASE_IMAGE, appSpec, nonce, rawDocker, stepContext, writeApp, type RecordedContext } from '../support/docker-fixture.js';
import { dockerHost, requireDocker } from '../support/services.js';

const docker = () => createDockerClient({ dockerHost: dockerHost() });

describe('test step (real Docker engine)', function () {
  this.timeout(60_000);
  const name = `tt-${nonce()}`;
  let workDir = '';
  let imageTag = '';
  let removeApp = async () => {};

  before(async () => {
    await requireDocker();
    const app = await writeApp({
      // The image's WORKDIR holds what the build made; the raw checkout is only under /src.
      Dockerfile: `FROM ${BASE_IMAGE}\nWORKDIR /app\nRUN echo built > artefact\n`,
      'README.md': 'source of the app\n',
    });
    workDir = app.dir;
    removeApp = app.remove;
    const ctx = stepContext(appSpec({ name, build: {} }), { workDir });
    const result = await buildStep({}, { docker: docker() }).run(ctx);
    if (result.status !== 'complete') throw new Error('could not build the image to test');
    imageTag = String(result.outputs.imageTag);
  });
  after(() => removeApp());

  const run = (test: string | undefined, timeoutMs = 20_000) => {
    const ctx = stepContext(appSpec({ name, build: test === undefined ? {} : { test } }), { workDir, imageTag });
    return { ctx, result: testStep({ testTimeoutMs: timeoutMs, reportIntervalMs: 50 }, { docker: docker() }).run(ctx) };
  };

  async function failureOf(p: Promise<unknown>): Promise<StepFailedError> {
    const err = await p.then(
      () => new Error('expected the test step to fail, it passed'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StepFailedError);
    return err as StepFailedError;
  }

  async function containersOf(ctx: RecordedContext) {
    return rawDocker().listContainers({ all: true, filters: { label: [`norn.saga=${ctx.sagaId}`] } });
  }

  it('passes when the command exits 0, with read-only source at /src, no network, and the output reported', async () => {
    const { ctx, result } = run(
      'cat artefact && cat "$NORN_SOURCE/README.md" && ! touch /src/x 2>/dev/null && test "$(ls /sys/class/net)" = lo && echo all-good',
    );
    expect(await result).to.deep.include({ status: 'complete' });
    const output = ctx.reports.join('\n');
    expect(output).to.include('built').and.to.include('source of the app').and.to.include('all-good');
    expect(await containersOf(ctx)).to.deep.equal([]);
  });

  it('fails with the exit code and the tail of stdout and stderr when the command fails', async () => {
    const { ctx, result } = run('echo checking; echo "assertion failed: 1 != 2" >&2; exit 7');
    const err = await failureOf(result);
    expect(err.message).to.match(/^test command exited with code 7 after/);
    expect(err.detail?.exitCode).to.equal(7);
    expect(err.detail?.tail).to.include('checking').and.to.include('assertion failed: 1 != 2');
    expect(await containersOf(ctx)).to.deep.equal([]);
  });

  it('fails a command that hangs past the time limit and removes its container', async () => {
    const started = Date.now();
    const { ctx, result } = run('echo started; sleep 300', 2000);
    const err = await failureOf(result);
    expect(err.message).to.equal('test command timed out after 2.0s');
    expect(err.detail?.tail).to.include('started');
    expect(Date.now() - started).to.be.below(15_000);
    expect(await containersOf(ctx)).to.deep.equal([]);
  });

  it('stops and removes the container when the deploy is cancelled', async () => {
    const { ctx, result } = run('sleep 300');
    const reason = new Error('deploy cancelled');
    setTimeout(() => ctx.controller.abort(reason), 1000);
    expect(await result.catch((e: unknown) => e)).to.equal(reason);
    expect(await containersOf(ctx)).to.deep.equal([]);
  });

  it('is skipped when the spec has no build.test', async () => {
    expect(await run(undefined).result).to.deep.equal({ status: 'skipped', reason: 'no build.test in the spec' });
  });

  it('fails clearly when there is no image to test', async () => {
    const ctx = stepContext(appSpec({ name, build: { test: 'true' } }), { workDir });
    const err = await failureOf(testStep({ testTimeoutMs: 1000 }, { docker: docker() }).run(ctx));
    expect(err.message).to.include('no image to test');
  });

  it('says a command not found in the image is not found there, and points at build.testTarget', async () => {
    const { result } = run('go test ./...');
    const err = await failureOf(result);
    expect(err.message).to.match(/^test command not found in .+ \(exit code 127\): `go test \.\/\.\.\.` runs inside the image, not on the host; .*set build\.testTarget/);
  });

  it('runs the test in the build.testTarget stage image, then removes that image', async () => {
    const app = await writeApp({
      Dockerfile: `FROM ${BASE_IMAGE} AS build\nRUN echo toolchain > /toolchain\nFROM ${BASE_IMAGE}\nRUN echo runtime > /runtime\n`,
    });
    try {
      const spec = appSpec({ name: `tg-${nonce()}`, build: { test: 'cat /toolchain && test ! -e /runtime', testTarget: 'build' } });
      const built = await buildStep({}, { docker: docker() }).run(stepContext(spec, { workDir: app.dir }));
      if (built.status !== 'complete') throw new Error('could not build');
      const ctx = stepContext(spec, { workDir: app.dir, ...built.outputs });
      expect(await testStep({ testTimeoutMs: 20_000, reportIntervalMs: 50 }, { docker: docker() }).run(ctx)).to.deep.include({ status: 'complete' });
      expect(ctx.reports.join('\n')).to.include('toolchain');
      expect(await docker().hasImage(String(built.outputs.testImage))).to.equal(false);
      await rawDocker().getImage(String(built.outputs.imageTag)).remove({ force: true });
    } finally {
      await app.remove();
    }
  });
});
