// Whether an image a rollback wants to run again still exists: on this host's Docker engine, or in the registry its
// name points at (asked through the engine, without pulling). A registry or engine that cannot be asked gives
// `unknown` with the reason: a rollback is what an operator reaches for when things are broken, so not being able
// to look is said, not turned into a refusal (submit fails clearly if the image really is gone).
import { errorMessage } from '../errors.js';
import type { DockerEngine, RegistryAuth } from '../integrations/docker/docker-engine.js';

export type ImagePresence =
  | { readonly status: 'engine' | 'registry' | 'missing'; readonly registry: string | null }
  | { readonly status: 'unknown'; readonly registry: string | null; readonly reason: string };

export type CheckImage = (image: string, app: string) => Promise<ImagePresence>;

/** The registry host of an image reference (`127.0.0.1:5000/shop:abc` → `127.0.0.1:5000`), null for Docker Hub names. */
export function registryOf(image: string): string | null {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : null;
}

/** `registry`: NORN_REGISTRY_URL's host and credentials, which are only ever sent to that host. */
export function imagePresence(deps: { docker: Pick<DockerEngine, 'hasImage' | 'registryHasImage'>; registry?: { readonly host: string; readonly auth?: RegistryAuth } }): CheckImage {
  return async (image, app) => {
    const registry = registryOf(image);
    try {
      if (await deps.docker.hasImage(image)) return { status: 'engine', registry };
      // `<app>:<tag>` with no registry is what a build without NORN_REGISTRY_URL makes: it was only ever on the engine.
      if (registry === null && image.startsWith(`${app}:`)) return { status: 'missing', registry };
      const auth = registry !== null && registry === deps.registry?.host ? deps.registry.auth : undefined;
      if (await deps.docker.registryHasImage(image, auth, registry ?? 'docker.io')) return { status: 'registry', registry };
      return { status: 'missing', registry };
    } catch (err) {
      return { status: 'unknown', registry, reason: errorMessage(err) };
    }
  };
}
