// Builds the engine client from configuration. The engine address uses the DOCKER_HOST forms: unix:///path,
// tcp://host:port (https with TLS material), ssh://user@host[:port]; dockerode's modem speaks all three.
import Dockerode from 'dockerode';
import { ConfigError } from '../../errors.js';
import { DockerContainers } from './docker-containers.js';
import { DockerEngine } from './docker-engine.js';

export interface DockerClientConfig {
  /** DOCKER_HOST form; unset means the local default socket. */
  readonly dockerHost?: string;
  /** TLS material (PEM) for a tcp engine; with it the connection uses https. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** ssh-agent socket for ssh:// engines. */
  readonly sshAgent?: string;
}

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** The dockerode connection options for a DOCKER_HOST value; throws ConfigError for a form it cannot use. */
export function dockerConnectionOptions(config: DockerClientConfig): Dockerode.DockerOptions {
  const host = config.dockerHost?.trim() || `unix://${DEFAULT_DOCKER_SOCKET}`;
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new ConfigError('DOCKER_HOST', `"${host}" is not an engine address (unix:///path, tcp://host:port or ssh://user@host)`);
  }
  switch (url.protocol) {
    case 'unix:':
      if (url.pathname === '' || url.pathname === '/') throw new ConfigError('DOCKER_HOST', `"${host}" names no socket path`);
      return { socketPath: decodeURIComponent(url.pathname) };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const isTls = url.protocol === 'https:' || config.tls !== undefined;
      return {
        protocol: isTls ? 'https' : 'http',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port) || (isTls ? 2376 : 2375),
        ...(config.tls ?? {}),
      };
    }
    case 'ssh:':
      return {
        protocol: 'ssh',
        host: url.hostname,
        port: Number(url.port) || 22,
        username: url.username ? decodeURIComponent(url.username) : undefined,
        sshOptions: config.sshAgent ? { agent: config.sshAgent } : {},
      };
    default:
      throw new ConfigError('DOCKER_HOST', `"${url.protocol}" engines are not supported (use unix://, tcp:// or ssh://)`);
  }
}

/**
 * The image side (build, push, test and migrate containers) and the runtime's container operations, over one
 * dockerode connection: one engine, one set of sockets and one ssh session, whoever asks.
 */
export function createDockerClients(config: DockerClientConfig): { readonly engine: DockerEngine; readonly containers: DockerContainers } {
  const address = config.dockerHost?.trim() || `unix://${DEFAULT_DOCKER_SOCKET}`;
  const dockerode = new Dockerode(dockerConnectionOptions(config));
  return { engine: new DockerEngine(dockerode, { address: withoutCredentials(address) }), containers: new DockerContainers(dockerode) };
}

/** The image side alone (tests and benchmarks that start no runtime). */
export function createDockerClient(config: DockerClientConfig): DockerEngine {
  return createDockerClients(config).engine;
}

/** An ssh:// or tcp:// address may carry a user (or password): messages show only scheme, host and path. */
function withoutCredentials(address: string): string {
  try {
    const url = new URL(address);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return address;
  }
}
