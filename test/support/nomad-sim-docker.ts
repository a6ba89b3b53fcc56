// Part of the Nomad simulator (a test double): a driver that runs a task for real on the Docker engine, so an
// end-to-end test can reach the deployed app. Containers use host networking (the test dockerd runs with
// --bridge=none), so the app listens on its own port (`To`, the PORT Norn sets) and health checks go to
// 127.0.0.1 on that port. Like Nomad's docker driver, `command` + `args` replace the image's CMD.
import type Docker from 'dockerode';
import type { NomadServiceCheck } from '../../src/integrations/nomad/nomad-types.js';
import type { NomadSimDriver, SimPort, SimTaskHandle } from './nomad-sim-driver.js';

/** Label on every container this driver creates, so a test can find leftovers. */
export const SIM_CONTAINER_LABEL = 'norn.nomad-simulator';

export function dockerDriver(docker: Docker): NomadSimDriver {
  return {
    async start(ctx, hooks, signal) {
      const image = String(ctx.task.Config.image ?? '');
      await ensureImage(docker, image, signal, () => hooks.event('Driver', `Downloading image ${image}`));
      if (signal.aborted) throw new Error('start aborted');
      const command = ctx.task.Config.command as string | undefined;
      const args = (ctx.task.Config.args as string[] | undefined) ?? [];
      const container = await docker.createContainer({
        name: `nomad-sim-${ctx.allocId.slice(0, 8)}-${ctx.task.Name}`,
        Image: image,
        Env: Object.entries(ctx.env).map(([k, v]) => `${k}=${v}`),
        ...(command ? { Cmd: [command, ...args] } : {}),
        Labels: { [SIM_CONTAINER_LABEL]: 'true', 'norn.nomad-simulator.alloc': ctx.allocId },
        HostConfig: {
          NetworkMode: 'host',
          ...(ctx.task.Resources?.MemoryMB ? { Memory: ctx.task.Resources.MemoryMB * 1024 * 1024 } : {}),
        },
      });
      try {
        await container.start();
      } catch (err) {
        await container.remove({ force: true }).catch(() => undefined);
        throw err;
      }
      // The task's output goes to the client's log files, as Nomad's docker driver copies it. The stream is closed
      // before the container is removed, so no reader is attached while the engine removes it.
      let logStream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
      const stopLogs = () => logStream?.destroy?.();
      void container.logs({ follow: true, stdout: true, stderr: true }).then(
        (stream) => {
          logStream = stream;
          stream.on('error', () => undefined);
          docker.modem.demuxStream(stream, { write: (d: Buffer) => hooks.log('stdout', d) } as unknown as NodeJS.WritableStream, { write: (d: Buffer) => hooks.log('stderr', d) } as unknown as NodeJS.WritableStream);
        },
        () => undefined,
      );
      let stopping = false;
      // An exited task's container goes away before any restart, as with Nomad's docker driver.
      const exited = (code: number) => {
        if (stopping) return;
        stopLogs();
        void container.remove({ force: true }).catch(() => undefined).then(() => hooks.exited(code));
      };
      void container.wait().then((r: { StatusCode: number }) => exited(r.StatusCode), () => exited(-1));
      const handle: SimTaskHandle = {
        probe: (check, port) => probe(check, port),
        async stop(signalName, timeoutMs) {
          stopping = true;
          await container.kill({ signal: signalName }).catch(() => undefined);
          const exited = container.wait().then(() => true, () => true);
          const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.max(100, timeoutMs)));
          if (!(await Promise.race([exited, timedOut]))) await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
          stopLogs();
          await container.remove({ force: true }).catch(() => undefined);
        },
      };
      return handle;
    },
  };
}

async function ensureImage(docker: Docker, image: string, signal: AbortSignal, pulling: () => void): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    // Not present: pull it, as Nomad's docker driver would.
  }
  pulling();
  const stream = await docker.pull(image, { abortSignal: signal });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
}

/** One http check against the task on the host network. */
async function probe(check: NomadServiceCheck, port: SimPort | undefined): Promise<boolean> {
  const target = port?.To || port?.Value;
  if (!target) return false;
  try {
    const res = await fetch(`http://127.0.0.1:${target}${check.Path ?? '/'}`, {
      method: check.Method || 'GET',
      signal: AbortSignal.timeout(Math.min(2000, Math.max(200, check.Timeout / 1e6))),
    });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}
