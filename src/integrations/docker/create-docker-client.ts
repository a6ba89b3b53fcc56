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

export function createDockerClient(config: DockerClientConfig): DockerEngine {
  const address = config.dockerHost?.trim() || `unix://${DEFAULT_DOCKER_SOCKET}`;
  return new DockerEngine(new Dockerode(dockerConnectionOptions(config)), { address: withoutCredentials(address) });
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

/** The container operations of the Docker runtime, on the same engine. */
export function createDockerContainers(config: DockerClientConfig): DockerContainers {
  return new DockerContainers(new Dockerode(dockerConnectionOptions(config)));
}
