// The build step against the real engine and registry started by test/support/start-services.sh.
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { StepFailedError } from '../../src/errors.js';
import { createDockerClient } from '../../src/integrations/docker/create-docker-client.js';
import { GitClient } from '../../src/integrations/git/git-client.js';
import { buildStep } from '../../src/pipeline/steps/build.js';
import { cleanupStep } from '../../src/pipeline/steps/cleanup.js';
import { createTestRepo } from '../support/git-repos.js';
import type { StepResult } from '../../src/pipeline/step.js';
import { BASE_IMAGE, appSpec, fakeSha, nonce, rawDocker, stepContext, writeApp } from '../support/docker-fixture.js';
import {
  authRegistryCredentials,
  authRegistryUrl,
  dockerHost,
  registryUrl,
  requireAuthRegistry,
  requireDocker,
  requireRegistry,
} from '../support/services.js';

const docker = () => createDockerClient({ dockerHost: dockerHost() });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the step to fail, it succeeded');
}

function imageTagOf(result: StepResult): string {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`);
  return String(result.outputs.imageTag);
}

describe('build step (real Docker engine and registry)', function () {
  this.timeout(120_000);
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    await requireDocker();
    await requireRegistry();
    await requireAuthRegistry();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  });

  async function app(files: Record<string, string>) {
    const a = await writeApp(files);
    cleanups.push(a.remove);
    return a.dir;
  }

  it('builds with the build args and VERSION, pushes, and the registry then serves the tag', async () => {
    const name = `bp-${nonce()}`;
    const sha = fakeSha();
    const dir = await app({
      Dockerfile: `FROM ${BASE_IMAGE}\nARG VERSION\nARG GREETING\nRUN echo "$GREETING at $VERSION" > /built\nCMD cat /built\n`,
    });
    const spec = appSpec({ name, build: { args: { GREETING: 'hello' } } });
    const ctx = stepContext(spec, { workDir: dir }, sha);

    const tag = imageTagOf(await buildStep({ registryUrl: registryUrl() }, { docker: docker() }).run(ctx));

    expect(tag).to.equal(`${registryUrl()}/${name}:${sha.slice(0, 12)}`);
    const res = await fetch(`http://${registryUrl()}/v2/${name}/tags/list`);
    expect(((await res.json()) as { tags: string[] }).tags).to.include(sha.slice(0, 12));
    expect(ctx.reports.join('\n')).to.match(/^#\d+ \[2\/2\] RUN/m).and.to.include(`pushed ${tag} (sha256:`);
    const file = await readFromImage(tag, '/built');
    expect(file).to.equal(`hello at ${sha}\n`);
  });

  it('serves an unchanged commit from the cache when it is built again from a fresh checkout', async () => {
    const name = `bc-${nonce()}`;
    const sha = fakeSha();
    const first = await app({
      Dockerfile: `FROM ${BASE_IMAGE}\nARG VERSION\nCOPY . /app\nRUN echo "${nonce()} $VERSION" > /stamp\n`,
      'app.txt': 'content\n',
    });
    // A new deploy of the same commit clones into a new directory: same bytes, new mtimes.
    const second = await mkdtemp(path.join(tmpdir(), 'norn-app-'));
    cleanups.push(() => rm(second, { recursive: true, force: true }));
    await new Promise((r) => setTimeout(r, 1100));
    await cp(first, second, { recursive: true });
    const spec = appSpec({ name, build: {} });
    const step = buildStep({}, { docker: docker() });

    const cold = stepContext(spec, { workDir: first }, sha);
    await step.run(cold);
    const warm = stepContext(spec, { workDir: second }, sha);
    await step.run(warm);

    // BuildKit makes no step of ARG; COPY and RUN of new content cannot come from the cache the first time.
    expect(cold.reports.join('\n')).to.include('(0 of 2 steps from cache)');
    expect(warm.reports.join('\n')).to.match(/^#\d+ CACHED$/m).and.to.include('(2 of 2 steps from cache)');
  });

  it('fails on a failing RUN with the daemon message and the tail of the output', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo about to fail ${nonce()} && exit 3\n` });
    const ctx = stepContext(appSpec({ name: `bf-${nonce()}`, build: {} }), { workDir: dir });

    const err = await rejection(buildStep({ registryUrl: registryUrl() }, { docker: docker() }).run(ctx));

    expect(err).to.be.instanceOf(StepFailedError);
    expect(err.message).to.match(/^build failed at step 2\/2 "RUN echo about to fail .*": .*exit code: 3/);
    expect(String((err as StepFailedError).detail?.tail)).to.include('about to fail');
  });

  it('fails clearly when the base image is missing', async () => {
    const missing = `norn-missing-${nonce()}:latest`;
    const dir = await app({ Dockerfile: `FROM ${missing}\nRUN true\n` });
    const ctx = stepContext(appSpec({ name: `bm-${nonce()}`, build: {} }), { workDir: dir });

    const err = await rejection(buildStep({}, { docker: docker() }).run(ctx));

    expect(err).to.be.instanceOf(StepFailedError);
    expect(err.message).to.match(/^build failed: /).and.to.include(missing.replace(':latest', ''));
  });

  it('fails at the push when the registry is down, after a successful build', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo ${nonce()}\n` });
    const ctx = stepContext(appSpec({ name: `bd-${nonce()}`, build: {} }), { workDir: dir });

    const err = await rejection(buildStep({ registryUrl: '127.0.0.1:5999' }, { docker: docker() }).run(ctx));

    expect(err).to.be.instanceOf(StepFailedError);
    expect(err.message).to.match(/^push to 127\.0\.0\.1:5999 failed \(NORN_REGISTRY_URL; credentials NORN_REGISTRY_USERNAME\/_PASSWORD\): .*connection refused/);
    expect(ctx.reports.join('\n')).to.match(/built 127\.0\.0\.1:5999\/bd-/);
  });

  it('pushes with the configured registry credentials, and fails with the registry refusal of a wrong password', async () => {
    const name = `ba-${nonce()}`;
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo ${nonce()}\n` });
    const spec = appSpec({ name, build: {} });
    const registry = authRegistryUrl();
    const creds = authRegistryCredentials();

    const ok = stepContext(spec, { workDir: dir });
    await buildStep({ registryUrl: registry, registryAuth: creds }, { docker: docker() }).run(ok);
    const wrong = stepContext(spec, { workDir: dir });
    const wrongPassword = 'not-the-password-4711';
    const err = await rejection(
      buildStep({ registryUrl: registry, registryAuth: { ...creds, password: wrongPassword } }, { docker: docker() }).run(wrong),
    );

    const basic = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    const res = await fetch(`http://${registry}/v2/${name}/tags/list`, { headers: { authorization: `Basic ${basic}` } });
    expect(((await res.json()) as { tags: string[] }).tags).to.include(ok.commitSha.slice(0, 12));
    expect(err).to.be.instanceOf(StepFailedError);
    expect(err.message).to.match(new RegExp(`^push to ${registry.replace(/\./g, '\\.')} failed \\(NORN_REGISTRY_URL; credentials NORN_REGISTRY_USERNAME/_PASSWORD\\): .*(unauthorized|authentication required)`));
    const everything = JSON.stringify({ message: err.message, detail: (err as StepFailedError).detail, reports: wrong.reports });
    expect(everything).not.to.include(wrongPassword);
  });

  it('keeps the image on the local engine and says so when no registry is configured', async () => {
    const name = `bl-${nonce()}`;
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo ${nonce()}\n` });
    const ctx = stepContext(appSpec({ name, build: {} }), { workDir: dir });

    const tag = imageTagOf(await buildStep({}, { docker: docker() }).run(ctx));

    expect(tag).to.equal(`${name}:${ctx.commitSha.slice(0, 12)}`);
    expect(ctx.reports).to.include('no registry configured; image kept on the local engine');
    await rawDocker().getImage(tag).inspect();
  });

  it('honours .dockerignore (with exceptions) and a Dockerfile and context in subdirectories', async () => {
    const dir = await app({
      'docker/app.Dockerfile': `FROM ${BASE_IMAGE}\nCOPY . /app\nRUN test ! -e /app/secret.txt && test ! -e /app/logs/debug.log && test -e /app/logs/keep.log && test -e /app/main.sh\n`,
      'svc/.dockerignore': 'secret.txt\nlogs\n!logs/keep.log\n',
      'svc/secret.txt': 'do not ship\n',
      'svc/main.sh': 'echo hi\n',
      'svc/logs/debug.log': 'noise\n',
      'svc/logs/keep.log': 'keep\n',
    });
    const spec = appSpec({ name: `bi-${nonce()}`, build: { context: 'svc', dockerfile: 'docker/app.Dockerfile' } });
    const ctx = stepContext(spec, { workDir: dir });

    await buildStep({}, { docker: docker() }).run(ctx);

    expect(ctx.reports[0]).to.include('.dockerignore left out 2 entries');
  });

  it('refuses a context or Dockerfile that leads out of the repository through a symlink', async () => {
    const outside = await app({ Dockerfile: `FROM ${BASE_IMAGE}\n` });
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\n` });
    await symlink(outside, path.join(dir, 'elsewhere'));
    await symlink(path.join(outside, 'Dockerfile'), path.join(dir, 'Other.Dockerfile'));
    const step = buildStep({}, { docker: docker() });

    const viaContext = await rejection(step.run(stepContext(appSpec({ name: 'esc', build: { context: 'elsewhere' } }), { workDir: dir })));
    const viaFile = await rejection(step.run(stepContext(appSpec({ name: 'esc', build: { dockerfile: 'Other.Dockerfile' } }), { workDir: dir })));

    expect(viaContext).to.be.instanceOf(StepFailedError);
    expect((viaContext as StepFailedError).detail).to.deep.equal({ field: 'build.context' });
    expect(viaContext.message).to.include('outside the repository');
    expect((viaFile as StepFailedError).detail).to.deep.equal({ field: 'build.dockerfile' });
  });

  it('builds BuildKit syntax (RUN --mount), multi-stage, passing only declared args: no "not consumed" warning', async () => {
    const dir = await app({
      Dockerfile: [
        `FROM ${BASE_IMAGE} AS deps`,
        'ARG GREETING=unset',
        'RUN --mount=type=cache,target=/cache echo "$GREETING" > /cache/g && cp /cache/g /greeting',
        `FROM ${BASE_IMAGE}`,
        'ARG VERSION',
        'COPY --from=deps /greeting /greeting',
        'RUN echo "$VERSION" > /version',
        '',
      ].join('\n'),
    });
    const sha = fakeSha();
    const spec = appSpec({ name: `bk-${nonce()}`, build: { args: { GREETING: 'hi', UNDECLARED: 'x' } } });
    const ctx = stepContext(spec, { workDir: dir }, sha);

    const tag = imageTagOf(await buildStep({}, { docker: docker() }).run(ctx));
    cleanups.push(() => rawDocker().getImage(tag).remove({ force: true }));

    expect(await readFromImage(tag, '/greeting')).to.equal('hi\n');
    expect(await readFromImage(tag, '/version')).to.equal(`${sha}\n`);
    const log = ctx.reports.join('\n');
    expect(log).to.include('build.args not passed, no ARG in Dockerfile declares them: UNDECLARED');
    expect(log).to.not.match(/not consumed/);
    expect(log).to.not.include('BUILD_NUMBER');
  });

  it('passes no build args a Dockerfile does not declare to the classic builder either (no warning)', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo ${nonce()}\n` });
    const ctx = stepContext(appSpec({ name: `bcl-${nonce()}`, build: {} }), { workDir: dir });
    const tag = imageTagOf(await buildStep({ builder: 'classic' }, { docker: docker() }).run(ctx));
    cleanups.push(() => rawDocker().getImage(tag).remove({ force: true }));
    const log = ctx.reports.join('\n');
    expect(log).to.match(/^Step 2\/2 : RUN/m);
    expect(log).to.not.match(/were not consumed|\[Warning\]/);
  });

  it('passes BUILD_NUMBER, the commit count of the pushed commit, though the checkout holds one commit', async () => {
    const repo = createTestRepo('bn');
    cleanups.push(async () => repo.remove());
    repo.commit({ 'a.txt': '1' }, 'one');
    repo.commit({ 'a.txt': '2' }, 'two');
    const sha = repo.commit({ Dockerfile: `FROM ${BASE_IMAGE}\nARG BUILD_NUMBER=none\nRUN echo "$BUILD_NUMBER" > /n\n` }, 'three');
    const workDir = await mkdtemp(path.join(tmpdir(), 'norn-bn-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    const git = new GitClient({ knownHostsPath: '/dev/null' });
    await git.fetchCommit(repo.url, sha, workDir);
    const ctx = { ...stepContext(appSpec({ name: `bn-${nonce()}`, build: {} }), { workDir }, sha), cloneUrl: repo.url };

    const tag = imageTagOf(await buildStep({}, { docker: docker(), git }).run(ctx));
    cleanups.push(() => rawDocker().getImage(tag).remove({ force: true }));

    expect(await readFromImage(tag, '/n')).to.equal('3\n');
    expect(ctx.reports.join('\n')).to.include(`BUILD_NUMBER=3 (commits in the history of ${sha.slice(0, 12)})`);
  });

  it('leaves BUILD_NUMBER to the ARG default, and says why, when the commits cannot be counted', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nARG BUILD_NUMBER=none\nRUN echo "$BUILD_NUMBER" > /n\n` });
    const ctx = stepContext(appSpec({ name: `bnx-${nonce()}`, build: {} }), { workDir: dir });
    const tag = imageTagOf(await buildStep({}, { docker: docker(), git: new GitClient({ knownHostsPath: '/dev/null' }) }).run(ctx));
    cleanups.push(() => rawDocker().getImage(tag).remove({ force: true }));
    expect(await readFromImage(tag, '/n')).to.equal('none\n');
    expect(ctx.reports.join('\n')).to.match(/BUILD_NUMBER not passed \(the ARG's default applies\): cannot count commits: /);
  });

  it('builds build.testTarget as a local image of its own and hands it to the test step', async () => {
    const dir = await app({
      Dockerfile: `FROM ${BASE_IMAGE} AS build\nRUN echo toolchain > /toolchain\nFROM ${BASE_IMAGE}\nRUN echo runtime > /runtime\n`,
    });
    const spec = appSpec({ name: `bt-${nonce()}`, build: { test: 'cat /toolchain', testTarget: 'build' } });
    const ctx = stepContext(spec, { workDir: dir });
    const result = await buildStep({ registryUrl: registryUrl() }, { docker: docker() }).run(ctx);
    if (result.status !== 'complete') throw new Error(JSON.stringify(result));
    const testImage = String(result.outputs.testImage);
    cleanups.push(() => rawDocker().getImage(testImage).remove({ force: true }));
    expect(testImage).to.equal(`${String(result.outputs.imageTag)}-build`);
    expect(await readFromImage(testImage, '/toolchain')).to.equal('toolchain\n');
    const registryTags = (await (await fetch(`http://${registryUrl()}/v2/${spec.name}/tags/list`)).json()) as { tags: string[] };
    expect(registryTags.tags).to.deep.equal([String(result.outputs.imageTag).split(':').pop()]);
  });

  it('cleanup removes a build.testTarget image that no test step ran in (a failure came first)', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE} AS build\nRUN echo ${nonce()} > /t\nFROM ${BASE_IMAGE}\n` });
    const spec = appSpec({ name: `btc-${nonce()}`, build: { test: 'true', testTarget: 'build' } });
    const result = await buildStep({}, { docker: docker() }).run(stepContext(spec, { workDir: dir }));
    if (result.status !== 'complete') throw new Error(JSON.stringify(result));
    cleanups.push(() => rawDocker().getImage(String(result.outputs.imageTag)).remove({ force: true }));
    const testImage = String(result.outputs.testImage);
    expect(await docker().hasImage(testImage)).to.equal(true);
    const workRoot = await mkdtemp(path.join(tmpdir(), 'norn-work-'));
    cleanups.push(() => rm(workRoot, { recursive: true, force: true }));
    await cleanupStep({ workRoot, docker: docker() }).run(stepContext(spec, result.outputs));
    expect(await docker().hasImage(testImage)).to.equal(false);
  });

  it('refuses a build.testTarget that is not a stage, naming the stages', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE} AS build\nFROM ${BASE_IMAGE}\n` });
    const ctx = stepContext(appSpec({ name: `bts-${nonce()}`, build: { test: 'true', testTarget: 'tests' } }), { workDir: dir });
    const err = await rejection(buildStep({}, { docker: docker() }).run(ctx));
    expect(err.message).to.equal('build.testTarget "tests" is not a stage of Dockerfile; its stages: build');
  });

  it('explains a heredoc this engine\'s Dockerfile frontend cannot parse', async function () {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN <<EOF\necho heredoc > /h\nEOF\n` });
    const ctx = stepContext(appSpec({ name: `bh-${nonce()}`, build: {} }), { workDir: dir });
    const outcome = await buildStep({}, { docker: docker() }).run(ctx).then(
      (r) => ({ ok: true as const, r }),
      (err: Error) => ({ ok: false as const, err }),
    );
    if (outcome.ok) {
      // A newer engine (Docker 23+) builds heredocs: then the image must hold what the heredoc wrote.
      const tag = imageTagOf(outcome.r);
      cleanups.push(() => rawDocker().getImage(tag).remove({ force: true }));
      expect(await readFromImage(tag, '/h')).to.equal('heredoc\n');
    } else {
      expect(outcome.err.message).to.include('uses heredocs (<<EOF)').and.to.include('Docker Engine 23 or newer');
    }
  });

  it('is skipped without a build section, naming the image the deploy will use', async () => {
    const ctx = stepContext(appSpec({ name: 'prebuilt', image: 'nginx:1.27' }), {});
    expect(await buildStep({}, { docker: docker() }).run(ctx)).to.deep.equal({
      status: 'skipped',
      reason: 'no build section; using image nginx:1.27',
    });
  });

  it('stops the build when the deploy is cancelled', async () => {
    const dir = await app({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo ${nonce()} && sleep 60\n` });
    const ctx = stepContext(appSpec({ name: `ba-${nonce()}`, build: {} }), { workDir: dir });
    const reason = new Error('deploy cancelled');
    const started = Date.now();
    setTimeout(() => ctx.controller.abort(reason), 1500);

    const err = await rejection(buildStep({}, { docker: docker() }).run(ctx));

    expect(err).to.equal(reason);
    expect(Date.now() - started).to.be.below(15_000);
  });
});

/** Reads a file out of an image without running it (the engine's archive endpoint on a created container). */
async function readFromImage(image: string, file: string): Promise<string> {
  const container = await rawDocker().createContainer({ Image: image });
  try {
    const tar = await container.getArchive({ path: file });
    const chunks: Buffer[] = [];
    for await (const c of tar as AsyncIterable<Buffer>) chunks.push(c);
    const buf = Buffer.concat(chunks);
    const size = parseInt(buf.subarray(124, 136).toString('ascii').trim(), 8);
    return buf.subarray(512, 512 + size).toString('utf8');
  } finally {
    await container.remove({ force: true });
  }
}
