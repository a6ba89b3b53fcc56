// The Docker Engine operations the pipeline needs (build, push, run a command), over dockerode. The engine answers
// builds and pushes with a 200 and a stream of JSON messages; a failure arrives as a message carrying `error`, so
// every message is checked and the first error becomes an UpstreamError with the daemon's own words.
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { UpstreamError, errorMessage, noAnswerError } from '../../errors.js';
import { BuildKitProgress } from './buildkit-status.js';
import { engineMessage, statusOf } from './engine-errors.js';

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
}

export interface BuildRequest {
  readonly context: NodeJS.ReadableStream;
  /** Path of the Dockerfile inside the context tar. */
  readonly dockerfile: string;
  readonly tag: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Network for RUN instructions (`none`, `host`, `default`, or a network name). */
  readonly networkMode: string;
  /**
   * `buildkit` (the default) understands today's Dockerfiles (`RUN --mount`, and heredocs where the engine's
   * Dockerfile frontend has them); `classic` is the legacy builder, for engines without BuildKit.
   */
  readonly builder?: 'buildkit' | 'classic';
  /** Build only up to this stage (`FROM ... AS <target>`). */
  readonly target?: string;
  /** Labels set on the built image. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface RunRequest {
  readonly image: string;
  /** Run as `/bin/sh -c <command>` (the image's ENTRYPOINT is replaced so it cannot swallow the command). */
  readonly command: string;
  readonly binds?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly networkMode: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type RunOutcome = { readonly exitCode: number; readonly timedOut: false } | { readonly timedOut: true };

/** One message of a build or push stream (only the fields the engine wrapper reads). */
interface StreamMessage {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number };
  error?: string;
  errorDetail?: { message?: string };
  /** An object for classic builds and pushes; base64 protobuf for BuildKit's `moby.buildkit.trace` messages. */
  aux?: { ID?: string; Digest?: string } | string;
}

export interface DockerEngineConfig {
  /** Where the engine is (DOCKER_HOST form, no credentials), for messages when it does not answer. */
  readonly address: string;
}

const NO_ENGINE_HINT = 'is the Docker engine running? set DOCKER_HOST';

export class DockerEngine {
  constructor(
    private readonly docker: Dockerode,
    private readonly config: DockerEngineConfig = { address: 'the Docker engine' },
  ) {}

  /** Where the engine is, without credentials. */
  get address(): string {
    return this.config.address;
  }

  /** Asks the engine for its version: the cheap "is it there" probe. dockerode's version() takes no signal. */
  async version(signal?: AbortSignal): Promise<{ version: string; apiVersion: string }> {
    const asked = this.call('read version', () => this.docker.version());
    asked.catch(() => undefined); // may settle after an abort decided the race
    const aborted = new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const v = await Promise.race([asked, aborted]);
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  /** Builds and tags an image; `onOutput` receives the build's text as it comes. Resolves with the image id. */
  async build(req: BuildRequest, onOutput: (text: string) => void): Promise<{ imageId: string }> {
    const isBuildKit = (req.builder ?? 'buildkit') === 'buildkit';
    const response = await this.call('build', () =>
      this.docker.buildImage(req.context, {
        t: req.tag,
        dockerfile: req.dockerfile,
        buildargs: { ...req.buildArgs },
        // BuildKit knows only default, host and none; `bridge` is what `default` means on a classic engine.
        networkmode: isBuildKit && req.networkMode === 'bridge' ? 'default' : req.networkMode,
        ...(req.labels ? { labels: { ...req.labels } } : {}),
        rm: true,
        forcerm: true,
        abortSignal: req.signal,
        // BuildKit through the Engine API: dockerode opens the session the engine requires; the context tar is
        // still sent as the request body.
        ...(isBuildKit ? { version: '2' as const } : {}),
        ...(req.target ? { target: req.target } : {}),
      }),
    );
    let imageId: string | undefined;
    const buildKit = new BuildKitProgress();
    await this.follow('build', response, onOutput, (m) => {
      if (typeof m.aux === 'string') {
        if (m.id === 'moby.buildkit.trace') onOutput(buildKit.render(m.aux));
      } else {
        imageId = m.aux?.ID ?? imageId;
      }
    });
    req.signal?.throwIfAborted();
    // A stream cut short (engine restarted, connection dropped) ends without error and without the image id.
    if (!imageId) throw new UpstreamError('docker', 'build', 200, 'the build output ended before the engine named the image');
    return { imageId };
  }

  /** Pushes `repository:tag`; resolves with the manifest digest the registry answered. */
  async push(
    image: { repository: string; tag: string; registry: string },
    auth: RegistryAuth | undefined,
    onOutput: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<{ digest: string }> {
    // Engines before API 1.42 reject a push without an X-Registry-Auth header, so anonymous pushes send `{}`.
    const authconfig = auth ? { username: auth.username, password: auth.password, serveraddress: image.registry } : {};
    const response = await this.call('push', () =>
      this.docker.getImage(image.repository).push({ tag: image.tag, authconfig, abortSignal: signal }),
    );
    let digest: string | undefined;
    await this.follow('push', response, onOutput, (m) => {
      if (typeof m.aux !== 'string') digest = m.aux?.Digest ?? digest;
    });
    signal?.throwIfAborted();
    if (!digest) throw new UpstreamError('docker', 'push', 200, 'the push output ended before the registry confirmed a digest');
    return { digest };
  }

  /** Removes an image by reference; one already gone is not an error. */
  async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw new UpstreamError('docker', 'remove image', statusOf(err), engineMessage(err), { cause: err });
    }
  }

  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw this.upstreamError('inspect image', err);
    }
  }

  /** The image's id and labels, or undefined when the engine does not have it. */
  async inspectImage(ref: string): Promise<{ id: string; labels: Readonly<Record<string, string>> } | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, labels: info.Config?.Labels ?? {} };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw new UpstreamError('docker', 'inspect image', statusOf(err), engineMessage(err), { cause: err });
    }
  }

  /**
   * Whether the registry `ref` names still holds it, asked through the engine (`GET /distribution/<ref>/json`: the
   * manifest only, nothing is pulled). False when the registry answers that it has no such manifest; an
   * UpstreamError when the registry or the engine cannot tell.
   */
  async registryHasImage(ref: string, auth: RegistryAuth | undefined, registry: string): Promise<boolean> {
    const authconfig = auth ? { username: auth.username, password: auth.password, serveraddress: registry } : undefined;
    try {
      await this.docker.getImage(ref).distribution(authconfig ? { authconfig } : {});
      return true;
    } catch (err) {
      const status = statusOf(err);
      // The engine answers 404 for an unknown manifest; registries without the repository make it say 401/403.
      if (status === 404 || /manifest unknown|not found|name unknown/i.test(engineMessage(err))) return false;
      throw this.upstreamError('look up image in registry', err);
    }
  }

  /** Gives the local image `source` the name `repository:tag` as well. */
  async tag(source: string, target: { repository: string; tag: string }): Promise<void> {
    await this.call('tag image', () => this.docker.getImage(source).tag({ repo: target.repository, tag: target.tag }));
  }

  /** Pulls `repository:tag` from its registry; rejects with an UpstreamError (404 when the registry has no such tag). */
  async pull(image: { repository: string; tag: string; registry: string }, auth: RegistryAuth | undefined, signal?: AbortSignal): Promise<void> {
    const authconfig = auth ? { username: auth.username, password: auth.password, serveraddress: image.registry } : undefined;
    const response = await this.call('pull', () =>
      this.docker.pull(`${image.repository}:${image.tag}`, { ...(authconfig ? { authconfig } : {}), abortSignal: signal }) as Promise<NodeJS.ReadableStream>,
    );
    await this.follow('pull', response, () => undefined, () => undefined);
    signal?.throwIfAborted();
  }

  /**
   * Runs a command to completion in a new container and removes the container whatever happens (exit, timeout,
   * abort, error). Output is demultiplexed; `onOutput` gets stdout and stderr text as it comes.
   */
  async run(req: RunRequest, onOutput: (text: string, stream: 'stdout' | 'stderr') => void): Promise<RunOutcome> {
    const container = await this.call('create container', () =>
      this.docker.createContainer({
        Image: req.image,
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: [req.command],
        Env: Object.entries(req.env ?? {}).map(([k, v]) => `${k}=${v}`),
        Labels: { ...req.labels },
        Tty: false,
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { Binds: [...(req.binds ?? [])], NetworkMode: req.networkMode },
      }),
    );
    try {
      return await this.runCreated(container, req, onOutput);
    } finally {
      // Not tied to req.signal: removal must happen precisely when the run was aborted.
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  private async runCreated(
    container: Dockerode.Container,
    req: RunRequest,
    onOutput: (text: string, stream: 'stdout' | 'stderr') => void,
  ): Promise<RunOutcome> {
    const attached = await this.call('attach', () => container.attach({ stream: true, stdout: true, stderr: true }));
    const stdout = new PassThrough().on('data', (b: Buffer) => onOutput(b.toString('utf8'), 'stdout'));
    const stderr = new PassThrough().on('data', (b: Buffer) => onOutput(b.toString('utf8'), 'stderr'));
    this.docker.modem.demuxStream(attached, stdout, stderr);
    const ended = new Promise<void>((resolve) => {
      attached.once('end', resolve).once('close', resolve).once('error', () => resolve());
    });

    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let hasExited = false;
    try {
      await this.call('start container', () => container.start());
      const exited = this.call('wait for container', () => container.wait()).then(
        (r: { StatusCode: number }) => ({ exitCode: r.StatusCode, timedOut: false }) as const,
      );
      exited.catch(() => undefined); // it may settle after the race is decided; that is not an unhandled error
      const timedOut = new Promise<RunOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ timedOut: true }), req.timeoutMs);
      });
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(req.signal?.reason ?? new Error('run aborted'));
        if (req.signal?.aborted) onAbort();
        else req.signal?.addEventListener('abort', onAbort, { once: true });
      });
      const outcome = await Promise.race([exited, timedOut, aborted]);
      if (!outcome.timedOut) {
        hasExited = true;
        // The last output can trail the exit; wait for the attach stream to end, but not forever.
        await Promise.race([ended, delay(2000)]);
      }
      return outcome;
    } finally {
      clearTimeout(timer);
      if (onAbort) req.signal?.removeEventListener('abort', onAbort);
      if (!hasExited) await container.kill().catch(() => undefined);
      (attached as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
    }
  }

  /** Reads a JSON message stream to its end, relaying text and failing on the first error message. */
  private async follow(
    operation: string,
    response: NodeJS.ReadableStream,
    onOutput: (text: string) => void,
    onMessage: (m: StreamMessage) => void,
  ): Promise<void> {
    try {
      for await (const raw of createInterface({ input: response, crlfDelay: Infinity })) {
        const line = raw.trim();
        if (line === '') continue;
        let message: StreamMessage;
        try {
          message = JSON.parse(line) as StreamMessage;
        } catch {
          onOutput(line + '\n');
          continue;
        }
        if (message.error !== undefined || message.errorDetail?.message !== undefined) {
          throw new UpstreamError('docker', operation, 200, message.errorDetail?.message ?? message.error ?? 'unknown error');
        }
        onMessage(message);
        if (message.stream !== undefined) onOutput(message.stream);
        // Byte-progress updates (`Pushing [==>   ]`) are noise in a log; the state changes around them are not.
        else if (message.status !== undefined && message.progressDetail?.current === undefined) {
          onOutput(`${message.id ? `${message.id}: ` : ''}${message.status}\n`);
        }
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError('docker', operation, statusOf(err), errorMessage(err), { cause: err });
    }
  }

  /** Runs an engine call, turning its rejection (HTTP error, connection refused) into an UpstreamError. */
  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.upstreamError(operation, err);
    }
  }

  private upstreamError(operation: string, err: unknown): UpstreamError {
    const isAbort = err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
    if (statusOf(err) === 0 && !isAbort) return noAnswerError('docker', operation, this.config.address, err, NO_ENGINE_HINT);
    return new UpstreamError('docker', operation, statusOf(err), engineMessage(err), { cause: err });
  }
}



function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
