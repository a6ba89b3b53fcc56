// Step 2: build the app's image from the checkout through the Docker Engine and push it to the registry.
// Without a `build` section there is nothing to build: the step is skipped, and the deploy runs the image the
// spec names (the submit step falls back to `spec.image` when no `imageTag` output exists).
import { stat } from 'node:fs/promises';
import { StepFailedError, UpstreamError, errorMessage } from '../../errors.js';
import { PathEscapeError, listBuildContext, packBuildContext, resolveInRepo } from '../../integrations/docker/build-context.js';
import type { DockerEngine, RegistryAuth } from '../../integrations/docker/docker-engine.js';
import { SHA_TAG_LENGTH, imageName, type ImageName } from '../../integrations/docker/image-name.js';
import { OutputRelay } from '../../integrations/docker/output-relay.js';
import { done, skipped, type Step, type StepContext } from '../step.js';
import type { BuildReuse } from './build-reuse.js';

export interface BuildStepConfig {
  /** Registry host[:port][/namespace]; unset keeps images on the local engine. */
  readonly registryUrl?: string;
  readonly registryAuth?: RegistryAuth;
  /** Network for RUN instructions. `none` (the default) keeps builds hermetic; `host`/`default` allow downloads. */
  readonly buildNetwork?: string;
  /** Least time between two progress reports of build output. */
  readonly reportIntervalMs?: number;
}

const TAIL_LINES = 50;
// Classic-builder instruction headers and the final lines: worth a report of their own, at once.
const MILESTONE = /^(Step \d+\/\d+ : |Successfully (built|tagged) |[0-9a-f]+: Pushed$|\S+: digest: sha256:)/;

/** `reuse`, when given, skips a build whose inputs an earlier image was built from (see build-reuse.ts). */
export function buildStep(config: BuildStepConfig, deps: { docker: DockerEngine; reuse?: BuildReuse; now?: () => number }): Step {
  const now = deps.now ?? Date.now;

  return {
    name: 'build',
    async run(ctx) {
      const { spec } = ctx;
      if (!spec.build) {
        if (!spec.image) throw new StepFailedError('build', 'no build section and no image named: nothing to deploy', { field: 'image' });
        return skipped(`no build section; using image ${spec.image}`);
      }
      const workDir = requireWorkDir(ctx);
      const image = imageName(config.registryUrl, spec.name, ctx.commitSha);
      const { contextDir, dockerfilePath } = await resolvePaths(workDir, spec.build.context, spec.build.dockerfile);
      const listing = await listBuildContext(contextDir, dockerfilePath);
      const buildArgs = { ...spec.build.args, VERSION: ctx.commitSha };
      let labels: Record<string, string> | undefined;
      let inputsDigest: string | undefined;
      if (deps.reuse) {
        inputsDigest = await deps.reuse.digest({ contextDir, dockerfilePath, listing, buildArgs });
        const lookup = await deps.reuse.reuse(image, inputsDigest, ctx.signal);
        if (lookup.found) {
          const skippedBuild = `build skipped: inputs unchanged since ${lookup.builtFrom.slice(0, SHA_TAG_LENGTH)}`;
          ctx.report(`${skippedBuild} (image found on the ${lookup.where}, tagged ${image.ref})`, { inputsDigest, builtFrom: lookup.builtFrom });
          await pushImage(config, ctx, deps, image, now);
          return done({ imageTag: image.ref }, skippedBuild);
        }
        if (lookup.note) ctx.report(lookup.note);
        labels = deps.reuse.labels(inputsDigest, ctx.commitSha);
      }
      const packed = await packBuildContext(contextDir, dockerfilePath, listing);
      const ignored = packed.ignoredCount > 0 ? ` (.dockerignore left out ${packed.ignoredCount} entries)` : '';
      ctx.report(`building ${image.ref} from ${spec.build.dockerfile} in ${spec.build.context}${ignored}`);

      const relay = newRelay(config, ctx, now);
      const progress = buildProgress();
      const started = now();
      try {
        await deps.docker.build(
          {
            context: packed.tar,
            dockerfile: packed.dockerfile,
            tag: image.ref,
            buildArgs,
            networkMode: config.buildNetwork ?? 'none',
            labels,
            signal: ctx.signal,
          },
          (text) => {
            progress.see(text);
            relay.write(text);
          },
        );
      } catch (err) {
        // The daemon's message alone may not say which instruction failed (a base image it could not pull).
        const at = progress.current ? ` at step ${progress.current}` : '';
        throw failure(ctx, relay, `build failed${at}`, err, { imageTag: image.ref });
      }
      relay.close();
      const seconds = ((now() - started) / 1000).toFixed(1);
      const { steps, cached } = progress;
      ctx.report(`built ${image.ref} in ${seconds}s (${cached} of ${steps} steps from cache)`, { steps, cached });

      const inputsName = inputsDigest && deps.reuse ? deps.reuse.inputsName(image, inputsDigest) : undefined;
      if (inputsName) await deps.docker.tag(image.ref, inputsName);
      const pushed = await pushImage(config, ctx, deps, image, now);
      // The inputs tag goes second: a deploy that finds it can rely on the layers being in the registry already.
      if (pushed && inputsName) await pushImage(config, ctx, deps, inputsName, now);
      return done({ imageTag: image.ref }, pushed ? `built and pushed ${image.ref}` : `built ${image.ref} (local only)`);
    },
  };
}

/** Pushes `image` when a registry is configured; false when the image stays on the local engine. */
async function pushImage(config: BuildStepConfig, ctx: StepContext, deps: { docker: DockerEngine }, image: ImageName, now: () => number): Promise<boolean> {
  const registry = image.registry;
  if (!registry) {
    ctx.report('no registry configured; image kept on the local engine');
    return false;
  }
  const pushRelay = newRelay(config, ctx, now);
  try {
    const { digest } = await deps.docker.push({ ...image, registry }, config.registryAuth, (t) => pushRelay.write(t), ctx.signal);
    pushRelay.close();
    ctx.report(`pushed ${image.ref} (${digest})`, { digest });
  } catch (err) {
    throw failure(ctx, pushRelay, `push to ${registry} failed`, err, { imageTag: image.ref });
  }
  return true;
}

/** Follows the classic builder's output: which instruction runs, how many ran, how many came from the cache. */
function buildProgress() {
  const state = {
    steps: 0,
    cached: 0,
    /** `2/5 "RUN make"` of the instruction running now. */
    current: '',
    see(text: string): void {
      for (const line of text.split('\n')) {
        const header = /^Step (\d+\/\d+) : (.*)$/.exec(line);
        if (header) {
          const instruction = header[2] ?? '';
          state.current = `${header[1]} "${instruction.length > 120 ? `${instruction.slice(0, 117)}...` : instruction}"`;
          // FROM never reports a cache hit, so it is not counted as a step that could have used one.
          if (!/^FROM /i.test(instruction)) state.steps += 1;
        } else if (line.includes('Using cache')) {
          state.cached += 1;
        }
      }
    },
  };
  return state;
}

function requireWorkDir(ctx: StepContext): string {
  const workDir = ctx.outputs.workDir;
  if (!workDir) throw new StepFailedError('build', 'no checkout to build: the clone step gave no workDir');
  return workDir;
}

async function resolvePaths(workDir: string, context: string, dockerfile: string) {
  try {
    const contextDir = await resolveInRepo(workDir, 'build.context', context);
    const dockerfilePath = await resolveInRepo(workDir, 'build.dockerfile', dockerfile);
    if (!(await stat(contextDir)).isDirectory()) throw new PathEscapeError('build.context', context, 'is not a directory');
    if (!(await stat(dockerfilePath)).isFile()) throw new PathEscapeError('build.dockerfile', dockerfile, 'is not a file');
    return { contextDir, dockerfilePath };
  } catch (err) {
    if (err instanceof PathEscapeError) throw new StepFailedError('build', err.message, { field: err.field }, { cause: err });
    throw err;
  }
}

function newRelay(config: BuildStepConfig, ctx: StepContext, now: () => number): OutputRelay {
  return new OutputRelay(
    { intervalMs: config.reportIntervalMs ?? 500, tailLines: TAIL_LINES, isMilestone: (l) => MILESTONE.test(l) },
    { report: (message, metadata) => ctx.report(message, { ...metadata, output: true }), now },
  );
}

/** The error to throw: the abort reason when the deploy was cancelled, else the daemon's message with the tail. */
function failure(ctx: StepContext, relay: OutputRelay, what: string, err: unknown, detail: Record<string, unknown>): unknown {
  relay.close();
  if (ctx.signal.aborted) return ctx.signal.reason ?? err;
  const reason = err instanceof UpstreamError ? err.upstreamMessage : errorMessage(err);
  return new StepFailedError('build', `${what}: ${reason.trim()}`, { ...detail, tail: relay.tail() }, { cause: err });
}
