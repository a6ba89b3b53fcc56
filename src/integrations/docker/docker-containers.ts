// The container operations the Docker runtime needs (create, start, list by label, inspect, stop, remove, logs),
// over dockerode. Every failure is an UpstreamError with the engine's own words.
import os from 'node:os';
import type Dockerode from 'dockerode';
import { pack } from 'tar-fs';
import { UpstreamError, errorMessage } from '../../errors.js';
import { engineMessage, statusOf } from './engine-errors.js';

export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** created, running, restarting, exited, paused, dead */
  readonly state: string;
  /** Epoch seconds. */
  readonly created: number;
  /** Host ports published on 127.0.0.1 (bridge networking): container port -> host port. */
  readonly published: Readonly<Record<number, number>>;
}

export interface ContainerState {
  readonly status: string;
  readonly running: boolean;
  readonly exitCode: number;
  readonly restartCount: number;
  readonly error: string;
}

export class DockerContainers {
  constructor(private readonly docker: Dockerode) {}

  /** true when the engine answers, else what went wrong. */
  async ping(timeoutMs = 3000): Promise<true | string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([this.docker.ping(), late]);
      return true;
    } catch (err) {
      return errorMessage(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Creates and starts a container; resolves with its id. A container that fails to start is removed. */
  async run(options: Dockerode.ContainerCreateOptions): Promise<string> {
    const container = await this.call('create container', () => this.docker.createContainer(options));
    try {
      await this.call('start container', () => container.start());
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    return container.id;
  }

  /**
   * Like `run`, with one file put into the container before it starts: `file.path` is `/<dir>/<name>`, created owned
   * by root, the directory 0755 and the file 0644. Goes through the engine's archive API, so it works when the engine
   * is remote or the receiver runs in a container (no bind mount of a local path).
   */
  async runWithFile(options: Dockerode.ContainerCreateOptions, file: { path: string; content: Uint8Array }): Promise<string> {
    const [dir, name, ...rest] = file.path.split('/').filter(Boolean);
    if (!dir || !name || rest.length > 0 || !file.path.startsWith('/')) throw new Error(`runWithFile: ${file.path} is not /<dir>/<name>`);
    const container = await this.call('create container', () => this.docker.createContainer(options));
    try {
      // `entries: []`: nothing is read from the directory; the two entries are written by `finish`.
      const archive = pack(os.tmpdir(), {
        entries: [],
        finalize: false,
        finish: (p) => {
          p.entry({ name: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
          p.entry({ name: `${dir}/${name}`, mode: 0o644, uid: 0, gid: 0 }, Buffer.from(file.content));
          p.finalize();
        },
      });
      await this.call('copy a file into the container', () => container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: '/' }));
      await this.call('start container', () => container.start());
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    return container.id;
  }

  /**
   * Waits until the container exits, at most `timeoutMs`; a container still running then is killed. Resolves with
   * its exit code, or `timedOut`.
   */
  async waitExit(id: string, timeoutMs: number): Promise<{ exitCode: number; timedOut: false } | { timedOut: true }> {
    const container = this.docker.getContainer(id);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ timedOut: true }>((resolve) => {
      timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
    });
    const exited = this.call('wait for container', () => container.wait()).then((r: { StatusCode: number }) => ({ exitCode: r.StatusCode, timedOut: false as const }));
    exited.catch(() => undefined);
    try {
      const outcome = await Promise.race([exited, late]);
      if (outcome.timedOut) await container.kill().catch(() => undefined);
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Containers (running or not) carrying every one of `labels`. */
  async list(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    const found = await this.call('list containers', () => this.docker.listContainers({ all: true, filters }));
    return found.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      image: c.Image,
      labels: c.Labels ?? {},
      state: c.State,
      created: c.Created,
      published: Object.fromEntries((c.Ports ?? []).filter((p) => p.PublicPort && p.IP !== '::').map((p) => [p.PrivatePort, p.PublicPort])),
    }));
  }

  async state(id: string): Promise<ContainerState | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return { status: info.State.Status, running: info.State.Running, exitCode: info.State.ExitCode, restartCount: info.RestartCount, error: info.State.Error };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw new UpstreamError('docker', 'inspect container', statusOf(err), engineMessage(err), { cause: err });
    }
  }

  /** Stops with the container's own stop signal and timeout (its drain), then removes it; gone already is fine. */
  async stopAndRemove(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    await container.stop().catch((err: unknown) => {
      const status = statusOf(err);
      if (status !== 304 && status !== 404) throw new UpstreamError('docker', 'stop container', status, engineMessage(err), { cause: err });
    });
    await container.remove({ force: true, v: false }).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw new UpstreamError('docker', 'remove container', statusOf(err), engineMessage(err), { cause: err });
    });
  }

  /** The last `tail` lines of stdout and stderr, interleaved as written. */
  async logs(id: string, tail: number): Promise<string> {
    const raw = await this.call('read logs', () =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false }),
    );
    return demultiplex(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  }

  /**
   * The engine's log stream of a container, still framed (see LogFrames): the last `tail` lines (all when
   * undefined) written after `sinceSeconds`, then, with `follow`, what it writes until the stream is destroyed.
   */
  async logStream(id: string, opts: { follow: boolean; tail?: number; sinceSeconds?: number }): Promise<NodeJS.ReadableStream | Buffer> {
    const container = this.docker.getContainer(id);
    const base = { stdout: true, stderr: true, timestamps: false, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.sinceSeconds !== undefined ? { since: opts.sinceSeconds } : {}) };
    // dockerode types the two forms apart: follow answers a live stream, no follow the whole output at once.
    if (opts.follow) return this.call('follow logs', () => container.logs({ ...base, follow: true }));
    return this.call('read logs', () => container.logs({ ...base, follow: false }));
  }

  /**
   * What to create another container like `id` with: its image, command, env, labels, stop settings, ports and
   * host settings as they were created (not the image's defaults).
   */
  async createOptionsOf(id: string): Promise<Dockerode.ContainerCreateOptions> {
    const info = await this.call('inspect container', () => this.docker.getContainer(id).inspect());
    // The engine answers StopSignal and StopTimeout; dockerode's type leaves them out.
    const c = info.Config as typeof info.Config & { StopSignal?: string; StopTimeout?: number };
    const h = info.HostConfig;
    return {
      Image: c.Image,
      ...(c.Cmd ? { Cmd: c.Cmd } : {}),
      Env: c.Env ?? [],
      Labels: c.Labels ?? {},
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
      ...(c.StopTimeout !== undefined ? { StopTimeout: c.StopTimeout } : {}),
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      HostConfig: {
        RestartPolicy: h.RestartPolicy,
        Memory: h.Memory,
        NanoCpus: h.NanoCpus,
        NetworkMode: h.NetworkMode,
        Binds: h.Binds ?? [],
        ...(h.PortBindings ? { PortBindings: h.PortBindings as Dockerode.PortMap } : {}),
      },
    };
  }

  /** Restarts a container in place (its stop signal and timeout, then a start); it keeps its id, env and port. */
  async restart(id: string): Promise<void> {
    await this.call('restart container', () => this.docker.getContainer(id).restart());
  }

  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw new UpstreamError('docker', 'inspect image', statusOf(err), engineMessage(err), { cause: err });
    }
  }

  /** Pulls `ref` to the engine and waits for the pull to finish. */
  async pull(ref: string): Promise<void> {
    const stream = await this.call('pull image', () => this.docker.pull(ref));
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null) =>
        err ? reject(new UpstreamError('docker', 'pull image', 0, engineMessage(err), { cause: err })) : resolve(),
      );
    });
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new UpstreamError('docker', operation, statusOf(err), engineMessage(err), { cause: err });
    }
  }
}

/**
 * Decodes the engine's framed log stream chunk by chunk into lines per stream (a frame or a line may be split
 * across chunks). Text without frames (a TTY container) is read as stdout.
 */
export class LogFrames {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial = { stdout: '', stderr: '' };
  private framed: boolean | undefined;

  /** The complete lines in `chunk` (and what came before it). */
  push(chunk: Buffer): { stream: 'stdout' | 'stderr'; text: string }[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.framed ??= this.pending.length >= 8 ? isFrameHeader(this.pending, 0) : undefined;
    const lines: { stream: 'stdout' | 'stderr'; text: string }[] = [];
    if (this.framed === undefined) return lines;
    if (!this.framed) {
      lines.push(...this.split('stdout', this.pending.toString('utf8')));
      this.pending = Buffer.alloc(0);
      return lines;
    }
    let at = 0;
    while (at + 8 <= this.pending.length) {
      const size = this.pending.readUInt32BE(at + 4);
      if (at + 8 + size > this.pending.length) break;
      const stream = this.pending[at] === 2 ? 'stderr' : 'stdout';
      lines.push(...this.split(stream, this.pending.subarray(at + 8, at + 8 + size).toString('utf8')));
      at += 8 + size;
    }
    this.pending = this.pending.subarray(at);
    return lines;
  }

  /** What is left without a final newline, once the stream ended. */
  end(): { stream: 'stdout' | 'stderr'; text: string }[] {
    if (this.framed === false || (this.framed === undefined && this.pending.length > 0)) this.partial.stdout += this.pending.toString('utf8');
    const rest = (['stdout', 'stderr'] as const).filter((s) => this.partial[s] !== '').map((stream) => ({ stream, text: this.partial[stream] }));
    this.partial.stdout = this.partial.stderr = '';
    return rest;
  }

  private split(stream: 'stdout' | 'stderr', text: string): { stream: 'stdout' | 'stderr'; text: string }[] {
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop()!;
    return parts.map((line) => ({ stream, text: line.replace(/\r$/, '') }));
  }
}

function isFrameHeader(buf: Buffer, at: number): boolean {
  return buf[at]! <= 2 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0;
}

/** The engine frames non-TTY output as [stream, 0, 0, 0, size (u32 BE)] + payload; text without frames is kept. */
export function demultiplex(buf: Buffer): string {
  const parts: string[] = [];
  let at = 0;
  while (at + 8 <= buf.length && buf[at]! <= 2 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size).toString('utf8'));
    at += 8 + size;
  }
  if (at < buf.length) parts.push(buf.subarray(at).toString('utf8'));
  return parts.join('');
}
