// Step 2: build the app's image from the checkout through the Docker Engine and push it to the registry.
// Without a `build` section there is nothing to build: the step is skipped, and the deploy runs the image the
// spec names, else `<app>:latest` (the submit step falls back to prebuiltImage() when no `imageTag` output exists).
import { readFile, stat } from 'node:fs/promises';
import { StepFailedError, UpstreamError, errorMessage } from '../../errors.js';
import { PathEscapeError, listBuildContext, packBuildContext, resolveInRepo } from '../../integrations/docker/build-context.js';
import type { DockerEngine, RegistryAuth } from '../../integrations/docker/docker-engine.js';
import { dockerfileFacts, PREDEFINED_ARGS, type DockerfileFacts } from '../../integrations/docker/dockerfile-args.js';
import type { GitClient } from '../../integrations/git/git-client.js';
import { SHA_TAG_LENGTH, imageName, type ImageName } from '../../integrations/docker/image-name.js';
import { OutputRelay } from '../../integrations/docker/output-relay.js';
import { prebuiltImage } from '../../apps/infraspec-schema.js';
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
  /** NORN_BUILDER: `buildkit` (default) or `classic`. */
  readonly builder?: 'buildkit' | 'classic';
}

const TAIL_LINES = 50;
// Instruction headers (classic `Step 2/5 : ...`, BuildKit `#7 [build 2/5] ...`) and the final lines: worth a report
// of their own, at once.
const MILESTONE = /^(Step \d+\/\d+ : |#\d+ \[[^\]]*\d+\/\d+\] |Successfully (built|tagged) |[0-9a-f]+: Pushed$|\S+: digest: sha256:)/;

export interface BuildStepDeps {
  readonly docker: DockerEngine;
  /** Counts commits for BUILD_NUMBER; without it BUILD_NUMBER is not passed (and the saga says so). */
  readonly git?: Pick<GitClient, 'commitCount'>;
  /** When given, a build whose inputs an earlier image was built from is skipped (see build-reuse.ts). */
  readonly reuse?: BuildReuse;
  readonly now?: () => number;
}

export function buildStep(config: BuildStepConfig, deps: BuildStepDeps): Step {
  const now = deps.now ?? Date.now;

  return {
    name: 'build',
    async run(ctx) {
      const { spec } = ctx;
      if (!spec.build) {
        const image = prebuiltImage(spec);
        return skipped(spec.image ? `no build section; using image ${image}` : `no build section and no image; using ${image} (Norn's rule)`);
      }
      const workDir = requireWorkDir(ctx);
      const image = imageName(config.registryUrl, spec.name, ctx.commitSha);
      const { contextDir, dockerfilePath } = await resolvePaths(workDir, spec.build.context, spec.build.dockerfile);
      const facts = dockerfileFacts(await readFile(dockerfilePath, 'utf8'));
      const testTarget = spec.build.testTarget;
      if (testTarget !== undefined && !facts.stages.includes(testTarget.toLowerCase())) {
        const known = facts.stages.length > 0 ? `its stages: ${facts.stages.join(', ')}` : 'it names no stage (FROM ... AS <name>)';
        throw new StepFailedError('build', `build.testTarget "${testTarget}" is not a stage of ${spec.build.dockerfile}; ${known}`, { field: 'build.testTarget' });
      }
      const listing = await listBuildContext(contextDir, dockerfilePath);
      const buildArgs = await declaredBuildArgs(ctx, facts, spec.build.dockerfile, deps.git);
      const run = async (tag: string, target: string | undefined, labels?: Record<string, string>) => {
        const packed = await packBuildContext(contextDir, dockerfilePath, listing);
        const ignored = packed.ignoredCount > 0 ? ` (.dockerignore left out ${packed.ignoredCount} entries)` : '';
        const what = target ? `stage ${target} of ${spec.build!.dockerfile}` : spec.build!.dockerfile;
        ctx.report(`building ${tag} from ${what} in ${spec.build!.context}${ignored}`);
        const relay = newRelay(config, ctx, now);
        const progress = buildProgress();
        const started = now();
        try {
          await deps.docker.build(
            {
              context: packed.tar,
              dockerfile: packed.dockerfile,
              tag,
              buildArgs,
              networkMode: config.buildNetwork ?? 'none',
              builder: config.builder ?? 'buildkit',
              ...(target ? { target } : {}),
              ...(labels ? { labels } : {}),
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
          throw failure(ctx, relay, `build failed${at}${heredocHint(err, facts)}`, err, { imageTag: tag });
        }
        relay.close();
        const seconds = ((now() - started) / 1000).toFixed(1);
        const { steps, cached } = progress;
        ctx.report(`built ${tag} in ${seconds}s (${cached} of ${steps} steps from cache)`, { metadata: { steps, cached } });
      };
      // The test stage is built after the image (sharing its cache), kept on the local engine and never pushed.
      const testImage = testTarget ? `${image.repository}:${image.tag}-${testTarget.toLowerCase()}` : undefined;
      const testOutput = testImage ? { testImage } : {};

      let labels: Record<string, string> | undefined;
      let inputsDigest: string | undefined;
      if (deps.reuse) {
        inputsDigest = await deps.reuse.digest({ contextDir, dockerfilePath, listing, buildArgs });
        const lookup = await deps.reuse.reuse(image, inputsDigest, ctx.signal);
        if (lookup.found) {
          const skippedBuild = `build skipped: inputs unchanged since ${lookup.builtFrom.slice(0, SHA_TAG_LENGTH)}`;
          ctx.report(`${skippedBuild} (image found on the ${lookup.where}, tagged ${image.ref})`, { metadata: { inputsDigest, builtFrom: lookup.builtFrom } });
          if (testImage) await run(testImage, testTarget);
          await pushImage(config, ctx, deps, image, now);
          return done({ imageTag: image.ref, ...testOutput }, skippedBuild);
        }
        if (lookup.note) ctx.report(lookup.note);
        labels = deps.reuse.labels(inputsDigest, ctx.commitSha);
      }
      await run(image.ref, undefined, labels);
      if (testImage) await run(testImage, testTarget);

      const inputsName = inputsDigest && deps.reuse ? deps.reuse.inputsName(image, inputsDigest) : undefined;
      if (inputsName) await deps.docker.tag(image.ref, inputsName);
      const pushed = await pushImage(config, ctx, deps, image, now);
      // The inputs tag goes second: a deploy that finds it can rely on the layers being in the registry already.
      if (pushed && inputsName) await pushImage(config, ctx, deps, inputsName, now);
      return done({ imageTag: image.ref, ...testOutput }, pushed ? `built and pushed ${image.ref}` : `built ${image.ref} (local only)`);
    },
  };
}

/**
 * The build args to pass: only those the Dockerfile declares (the engine warns about every other one), VERSION (the
 * commit SHA) and BUILD_NUMBER (the commit count, as Norn passes them) included when declared. Spec args the
 * Dockerfile does not declare are named in the saga rather than passed.
 */
async function declaredBuildArgs(
  ctx: StepContext,
  facts: DockerfileFacts,
  dockerfile: string,
  git: BuildStepDeps['git'],
): Promise<Record<string, string>> {
  const args: Record<string, string> = {};
  const unused: string[] = [];
  for (const [name, value] of Object.entries(ctx.spec.build?.args ?? {})) {
    if (facts.args.has(name) || PREDEFINED_ARGS.has(name)) args[name] = value;
    else unused.push(name);
  }
  if (unused.length > 0) ctx.report(`build.args not passed, no ARG in ${dockerfile} declares them: ${unused.join(', ')}`);
  if (facts.args.has('VERSION')) args.VERSION = ctx.commitSha;
  if (facts.args.has('BUILD_NUMBER')) {
    const workDir = requireWorkDir(ctx);
    try {
      if (!git) throw new Error('no git client to count commits with');
      if (!ctx.cloneUrl) throw new Error("the app deploys its own directory, which has no git history");
      args.BUILD_NUMBER = String(await git.commitCount(ctx.cloneUrl, ctx.commitSha, `${workDir}.history`, { signal: ctx.signal }));
      ctx.report(`BUILD_NUMBER=${args.BUILD_NUMBER} (commits in the history of ${ctx.commitSha.slice(0, 12)})`);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      // A made-up number would be worse than none: the ARG's own default applies, and the saga says why.
      ctx.report(`BUILD_NUMBER not passed (the ARG's default applies): cannot count commits: ${errorMessage(err)}`);
    }
  }
  return args;
}

/** A hint when a Dockerfile with heredocs fails to parse: the engine's built-in frontend predates them. */
function heredocHint(err: unknown, facts: DockerfileFacts): string {
  const text = err instanceof UpstreamError ? err.upstreamMessage : errorMessage(err);
  if (!facts.hasHeredoc || !/dockerfile parse error|unknown instruction/i.test(text)) return '';
  return ' (this Dockerfile uses heredocs (<<EOF), which this engine\'s built-in Dockerfile frontend does not know: use Docker Engine 23 or newer, or add "# syntax=docker/dockerfile:1" as its first line if the engine can pull that frontend)';
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
    ctx.report(`pushed ${image.ref} (${digest})`, { metadata: { digest } });
  } catch (err) {
    // The engine's words name the registry's URL but not the setting that chose it.
    throw failure(ctx, pushRelay, `push to ${registry} failed (NORN_REGISTRY_URL; credentials NORN_REGISTRY_USERNAME/_PASSWORD)`, err, { imageTag: image.ref });
  }
  return true;
}

/** Follows build output, classic or BuildKit: which instruction runs, how many ran, how many came from the cache. */
function buildProgress() {
  /** BuildKit vertex numbers that are Dockerfile instructions (not FROM or internal work). */
  const instructionVertexes = new Set<string>();
  const state = {
    steps: 0,
    cached: 0,
    /** `2/5 "RUN make"` of the instruction running now. */
    current: '',
    see(text: string): void {
      for (const line of text.split('\n')) {
        const header = /^Step (\d+\/\d+) : (.*)$/.exec(line) ?? /^#(?:\d+) \[(?:[^\]]* )?(\d+\/\d+)\] (.*)$/.exec(line);
        const vertex = /^#(\d+) /.exec(line)?.[1];
        if (header) {
          const instruction = header[2] ?? '';
          state.current = `${header[1]} "${instruction.length > 120 ? `${instruction.slice(0, 117)}...` : instruction}"`;
          // FROM never reports a cache hit, so it is not counted as a step that could have used one.
          if (!/^FROM /i.test(instruction)) {
            state.steps += 1;
            if (vertex) instructionVertexes.add(vertex);
          }
        } else if (line.includes('Using cache') || (vertex && line === `#${vertex} CACHED` && instructionVertexes.has(vertex))) {
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
    { report: (message, metadata) => ctx.report(message, { metadata: { ...metadata, output: true } }), now },
  );
}

/** The error to throw: the abort reason when the deploy was cancelled, else the daemon's message with the tail. */
function failure(ctx: StepContext, relay: OutputRelay, what: string, err: unknown, detail: Record<string, unknown>): unknown {
  relay.close();
  if (ctx.signal.aborted) return ctx.signal.reason ?? err;
  const reason = err instanceof UpstreamError ? err.upstreamMessage : errorMessage(err);
  return new StepFailedError('build', `${what}: ${reason.trim()}`, { ...detail, tail: relay.tail() }, { cause: err });
}
