// A small web app for the Docker runtime tests: busybox httpd (in norn-base:latest) serving /index.html with the
// version and /health, listening on $PORT. Version `broken` builds an image without /health. Also the receiver settings that run it.
import Dockerode from 'dockerode';
import { rawDocker } from './docker-fixture.js';
import { dockerHost } from './services.js';

/**
 * A receiver's settings for running apps on the test engine's Docker runtime, with host networking (the engine has
 * no bridge), and, when given, how long its health gate waits.
 */
export function dockerRuntimeEnv(gate?: { minHealthySeconds: number; healthyDeadlineSeconds: number }): Record<string, string> {
  return {
    NORN_RUNTIME: 'docker',
    DOCKER_HOST: dockerHost(),
    NORN_DOCKER_NETWORK: 'host',
    ...(gate ? { NORN_DOCKER_MIN_HEALTHY_SECONDS: String(gate.minHealthySeconds), NORN_HEALTHY_DEADLINE_SECONDS: String(gate.healthyDeadlineSeconds) } : {}),
  };
}

export function webAppFiles(version: string, opts: { brokenHealth?: boolean } = {}): Record<string, string> {
  return {
    Dockerfile: `FROM norn-base:latest\nCOPY www /www\n${opts.brokenHealth ? 'RUN rm /www/health\n' : ''}`,
    'www/index.html': `${version}\n`,
    'www/health': 'ok\n',
  };
}

export function webAppSpec(app: string, repoUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: app,
    repo: { url: repoUrl, branch: 'main', autoDeploy: true },
    build: { dockerfile: 'Dockerfile' },
    processes: {
      web: { port: 8080, command: 'exec httpd -f -p "$PORT" -h /www', health: { path: '/health', interval: '1s', timeout: '1s' }, drain: { timeout: '2s' } },
    },
    ...extra,
  };
}

/** The containers the Docker runtime runs for `app` (any state). */
export async function appContainers(app: string): Promise<Dockerode.ContainerInfo[]> {
  return rawDocker().listContainers({ all: true, filters: JSON.stringify({ label: [`norn.app=${app}`] }) });
}

export async function removeAppContainers(app: string): Promise<void> {
  const docker = rawDocker();
  for (const c of await appContainers(app)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
}

/** The body of GET http://address/, or undefined when nothing answers 200 there. */
export async function answerAt(address: string): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${address}/`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? (await res.text()).trim() : undefined;
  } catch {
    return undefined;
  }
}
