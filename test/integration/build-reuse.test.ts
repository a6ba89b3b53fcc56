// Build skip against the real engine and the open registry started by test/support/start-services.sh: a commit
// whose build inputs an earlier image was built from is tagged, not built.
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { createDockerClient } from '../../src/integrations/docker/create-docker-client.js';
import { BuildReuse } from '../../src/pipeline/steps/build-reuse.js';
import { buildStep } from '../../src/pipeline/steps/build.js';
import type { StepResult } from '../../src/pipeline/step.js';
import { BASE_IMAGE, appSpec, fakeSha, nonce, rawDocker, stepContext, writeApp } from '../support/docker-fixture.js';
import { dockerHost, registryUrl, requireDocker, requireRegistry } from '../support/services.js';

function messageOf(result: StepResult): string {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`);
  return result.message ?? '';
}

async function registryTags(name: string): Promise<string[]> {
  const res = await fetch(`http://${registryUrl()}/v2/${name}/tags/list`);
  return ((await res.json()) as { tags: string[] }).tags;
}

describe('build skip when the inputs are unchanged (real Docker engine and registry)', function () {
  this.timeout(180_000);
  const engine = () => createDockerClient({ dockerHost: dockerHost() });
  const removals: Array<() => Promise<unknown>> = [];
  before(async () => {
    await requireDocker();
    await requireRegistry();
  });
  afterEach(async () => {
    for (const r of removals.splice(0)) await r().catch(() => undefined);
  });

  async function checkout(extra: Record<string, string> = {}) {
    const app = await writeApp({
      Dockerfile: `FROM ${BASE_IMAGE}\nARG VERSION\nARG GREETING\nCOPY . /app\nRUN echo "$GREETING $VERSION" > /built\n`,
      '.dockerignore': 'docs\ninfraspec.yaml\n',
      'main.sh': 'echo main\n',
      'docs/guide.md': 'first guide\n',
      'infraspec.yaml': 'name: x\n',
      ...extra,
    });
    removals.push(app.remove);
    return app.dir;
  }

  function step(registry = true) {
    const docker = engine();
    return buildStep(registry ? { registryUrl: registryUrl() } : {}, { docker, reuse: new BuildReuse({}, { docker }) });
  }

  it('tags and pushes the earlier image for a commit that changed only ignored files, and builds a code change', async () => {
    const name = `rb-${nonce()}`;
    const spec = appSpec({ name, build: { args: { GREETING: 'hi' } } });
    const first = fakeSha();
    await step().run(stepContext(spec, { workDir: await checkout() }, first));

    const docsOnly = fakeSha();
    const docsCtx = stepContext(spec, { workDir: await checkout({ 'docs/guide.md': 'second guide\n', 'infraspec.yaml': 'name: y\n' }) }, docsOnly);
    const skipped = messageOf(await step().run(docsCtx));

    expect(skipped).to.equal(`build skipped: inputs unchanged since ${first.slice(0, 12)}`);
    expect(docsCtx.reports.join('\n')).to.not.match(/^building /m);
    expect(await registryTags(name)).to.include(docsOnly.slice(0, 12));
    const images = rawDocker();
    const [a, b] = await Promise.all([
      images.getImage(`${registryUrl()}/${name}:${first.slice(0, 12)}`).inspect(),
      images.getImage(`${registryUrl()}/${name}:${docsOnly.slice(0, 12)}`).inspect(),
    ]);
    expect(b.Id).to.equal(a.Id);

    const codeCtx = stepContext(spec, { workDir: await checkout({ 'main.sh': 'echo changed\n' }) }, fakeSha());
    expect(messageOf(await step().run(codeCtx))).to.match(/^built and pushed /);
  });

  it('finds the earlier image in the registry when the engine no longer has it', async () => {
    const name = `rr-${nonce()}`;
    const spec = appSpec({ name, build: {} });
    const first = fakeSha();
    await step().run(stepContext(spec, { workDir: await checkout() }, first));
    const images = rawDocker();
    for (const info of await images.listImages({ filters: { reference: [`${registryUrl()}/${name}`] } })) {
      await images.getImage(info.Id).remove({ force: true });
    }

    const ctx = stepContext(spec, { workDir: await checkout({ 'docs/guide.md': 'other\n' }) }, fakeSha());
    expect(messageOf(await step().run(ctx))).to.equal(`build skipped: inputs unchanged since ${first.slice(0, 12)}`);
    expect(ctx.reports.join('\n')).to.include('image found on the registry');
    expect(await registryTags(name)).to.include(ctx.commitSha.slice(0, 12));
  });

  it('builds again when a build arg, the Dockerfile or a file mode changes (VERSION alone does not count)', async () => {
    const name = `ra-${nonce()}`;
    const run = async (args: Record<string, string>, dir: string) =>
      messageOf(await step(false).run(stepContext(appSpec({ name, build: { args } }), { workDir: dir }, fakeSha())));
    const base = await checkout();
    await run({ GREETING: 'hi' }, base);
    expect(await run({ GREETING: 'hi' }, base)).to.match(/^build skipped/);
    expect(await run({ GREETING: 'hello' }, base)).to.match(/^built /);

    const executable = await checkout();
    await chmod(path.join(executable, 'main.sh'), 0o755);
    expect(await run({ GREETING: 'hi' }, executable)).to.match(/^built /);
    const dockerfile = await checkout();
    await writeFile(path.join(dockerfile, 'Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY . /app\n`);
    expect(await run({ GREETING: 'hi' }, dockerfile)).to.match(/^built /);
  });
});
