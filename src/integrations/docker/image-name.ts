// How a deploy's image is named: `<registry>/<app>:<first 12 hex of the commit>`, or `<app>:<sha12>` when the
// image stays on the local engine. Twelve characters are unique enough within one app and keep tags readable;
// the full SHA is passed to the build as VERSION.
export interface ImageName {
  /** Registry host[:port] the image is pushed to; undefined for a local-only image. */
  readonly registry?: string;
  /** Everything before the tag: `127.0.0.1:5000/shop`. */
  readonly repository: string;
  readonly tag: string;
  /** `repository:tag`, what the build tags and the deploy runs. */
  readonly ref: string;
}

export const SHA_TAG_LENGTH = 12;

/**
 * `registryUrl` may carry a scheme and a namespace path (`https://registry.example.com/team`); both are kept
 * apart from the host that the push authenticates against.
 */
export function imageName(registryUrl: string | undefined, app: string, commitSha: string): ImageName {
  if (!/^[0-9a-f]{12,64}$/i.test(commitSha)) throw new Error(`commit "${commitSha}" is not a hex SHA of 12+ characters`);
  const tag = commitSha.slice(0, SHA_TAG_LENGTH).toLowerCase();
  const prefix = registryUrl?.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  if (!prefix) return { repository: app, tag, ref: `${app}:${tag}` };
  const registry = prefix.split('/')[0] ?? prefix;
  const repository = `${prefix}/${app}`;
  return { registry, repository, tag, ref: `${repository}:${tag}` };
}

/** The registry host[:port] of NORN_REGISTRY_URL (`https://registry.example.com/team` → `registry.example.com`). */
export function registryHostOf(registryUrl: string): string | undefined {
  const prefix = registryUrl.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  return prefix ? prefix.split('/')[0] : undefined;
}
