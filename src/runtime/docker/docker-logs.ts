// `norn logs` on the Docker runtime: each container's log stream from the engine, decoded into stdout and stderr
// lines. A stream is destroyed when the request's signal aborts (the client went away) or the reader stops, so
// the engine's connection never outlives the request.
import { errorMessage } from '../../errors.js';
import { type ContainerSummary, type DockerContainers, LogFrames } from '../../integrations/docker/docker-containers.js';
import type { LogLine, LogRequest } from '../../pipeline/runtime-operations.js';
import { LABEL } from './container-options.js';

export async function* containerLogLines(containers: Pick<DockerContainers, 'logStream'>, c: ContainerSummary, req: LogRequest): AsyncGenerator<LogLine> {
  const process = c.labels[LABEL.process] ?? '?';
  const instance = c.id.slice(0, 12);
  const line = (l: { stream: 'stdout' | 'stderr'; text: string }): LogLine => ({ process, instance, stream: l.stream, text: l.text });
  const frames = new LogFrames();
  if (req.signal.aborted) return;
  let raw: NodeJS.ReadableStream | Buffer;
  try {
    raw = await containers.logStream(c.id, {
      follow: req.follow,
      ...(req.tail !== undefined ? { tail: req.tail } : {}),
      ...(req.sinceMs !== undefined ? { sinceSeconds: Math.floor(req.sinceMs / 1000) } : {}),
    });
  } catch (err) {
    yield line({ stream: 'stderr', text: `[norn] could not read the logs of ${c.name}: ${errorMessage(err)}` });
    return;
  }
  if (Buffer.isBuffer(raw)) {
    for (const l of [...frames.push(raw), ...frames.end()]) yield line(l);
    return;
  }
  const stream = raw as NodeJS.ReadableStream & { destroy(): void };
  const close = () => stream.destroy();
  req.signal.addEventListener('abort', close, { once: true });
  try {
    for await (const chunk of stream) {
      for (const l of frames.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))) yield line(l);
    }
    for (const l of frames.end()) yield line(l);
  } catch (err) {
    if (!req.signal.aborted) yield line({ stream: 'stderr', text: `[norn] the log stream of ${c.name} broke off: ${errorMessage(err)}` });
  } finally {
    req.signal.removeEventListener('abort', close);
    stream.destroy();
  }
}
