// Skips a build whose inputs were built before. The inputs are what the build reads: the context after
// `.dockerignore` (paths, types, modes, contents, symlink targets), the Dockerfile, the build args except the ones
// that name the commit (VERSION, BUILD_NUMBER), and the local image ids of the base images the Dockerfile names.
// Their digest is stored on each built image as a label and as a second tag, `<repository>:inputs-<digest>`,
// pushed beside the commit's tag; a later deploy whose inputs have that digest finds the tag on the engine, or
// pulls it from the registry, and gives the image its own commit's tag instead of building.
// Not covered (as with Docker's own layer cache): what RUN instructions download when the build network allows it,
// and base images referenced through ARG substitution.
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { UpstreamError, errorMessage } from '../../errors.js';
import type { ContextListing } from '../../integrations/docker/build-context.js';
import type { DockerEngine, RegistryAuth } from '../../integrations/docker/docker-engine.js';
import type { ImageName } from '../../integrations/docker/image-name.js';

/** Build args that differ per commit by design; an image built for an earlier commit is reused despite them. */
const PER_COMMIT_ARGS = new Set(['VERSION', 'BUILD_NUMBER']);
export const INPUTS_LABEL = 'norn.build-inputs';
export const COMMIT_LABEL = 'norn.commit';

export interface BuildInputs {
  readonly contextDir: string;
  readonly dockerfilePath: string;
  readonly listing: ContextListing;
  readonly buildArgs: Readonly<Record<string, string>>;
}

/** An earlier image with the same inputs, now also tagged for this commit; or why none was used. */
export type ReuseLookup = { readonly found: true; readonly builtFrom: string; readonly where: 'engine' | 'registry' } | { readonly found: false; readonly note?: string };

export class BuildReuse {
  constructor(
    private readonly config: { readonly registryAuth?: RegistryAuth },
    private readonly deps: { readonly docker: Pick<DockerEngine, 'inspectImage' | 'tag' | 'pull'> },
  ) {}

  /** sha256 (hex) over everything the build reads. */
  async digest(inputs: BuildInputs): Promise<string> {
    const hash = createHash('sha256').update('norn build inputs v1\n');
    const dockerfile = await readFile(inputs.dockerfilePath);
    hash.update(`dockerfile ${sha256(dockerfile)}\n`);
    const args = Object.entries(inputs.buildArgs)
      .filter(([name]) => !PER_COMMIT_ARGS.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    hash.update(`args ${JSON.stringify(args)}\n`);
    for (const base of baseImages(dockerfile.toString('utf8'))) {
      const local = base.includes('$') ? undefined : await this.deps.docker.inspectImage(base);
      hash.update(`from ${JSON.stringify(base)} ${local?.id ?? 'not on the engine'}\n`);
    }
    for (const rel of [...inputs.listing.included].sort()) {
      const full = path.join(inputs.contextDir, rel);
      const info = await lstat(full);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) hash.update(`link ${JSON.stringify(rel)} ${JSON.stringify(await readlink(full))}\n`);
      else if (info.isDirectory()) hash.update(`dir ${JSON.stringify(rel)} ${mode}\n`);
      else if (info.isFile()) hash.update(`file ${JSON.stringify(rel)} ${mode} ${sha256(await readFile(full))}\n`);
    }
    return hash.digest('hex');
  }

  /** The labels a build with this digest carries, so the image says what it was built from. */
  labels(digest: string, commitSha: string): Record<string, string> {
    return { [INPUTS_LABEL]: digest, [COMMIT_LABEL]: commitSha };
  }

  /** The second name each built image gets: where a later deploy with the same inputs looks for it. */
  inputsName(image: ImageName, digest: string): ImageName {
    const tag = `inputs-${digest}`;
    return { registry: image.registry, repository: image.repository, tag, ref: `${image.repository}:${tag}` };
  }

  /** Looks for an image built from `digest` on the engine, then in the registry; when found, tags it as `image`. */
  async reuse(image: ImageName, digest: string, signal?: AbortSignal): Promise<ReuseLookup> {
    const named = this.inputsName(image, digest);
    let where: 'engine' | 'registry' = 'engine';
    let found = await this.deps.docker.inspectImage(named.ref);
    if (!found && named.registry) {
      try {
        await this.deps.docker.pull({ repository: named.repository, tag: named.tag, registry: named.registry }, this.config.registryAuth, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        // A registry without the tag is the common case; anything else is worth a line, but a build still works.
        if (err instanceof UpstreamError && err.status === 404) return { found: false };
        return { found: false, note: `could not look in the registry for an earlier image (${errorMessage(err)})` };
      }
      where = 'registry';
      found = await this.deps.docker.inspectImage(named.ref);
    }
    // The tag is only trusted with the label that says which inputs it was built from.
    if (!found || found.labels[INPUTS_LABEL] !== digest) return { found: false };
    await this.deps.docker.tag(found.id, image);
    return { found: true, builtFrom: found.labels[COMMIT_LABEL] ?? 'an earlier commit', where };
  }
}

/** The images the Dockerfile's FROM lines name, less `scratch` and the names of earlier stages. */
function baseImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of dockerfile.split(/\r?\n/)) {
    const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    const [, name = '', alias] = from;
    if (!stages.has(name.toLowerCase()) && name.toLowerCase() !== 'scratch') bases.push(name);
    if (alias) stages.add(alias.toLowerCase());
  }
  return bases;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
