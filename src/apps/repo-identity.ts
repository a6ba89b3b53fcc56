// One key per repository, whatever form its URL takes, so a push delivered with the forge's https URL matches a
// spec that names the ssh one. Remote repos become `host/owner/name` in lower case (forges treat owner and name
// case-insensitively); the port and credentials are dropped because https and ssh reach the same repo on
// different ports. Local bare repos become `local:/abs/path`, case kept (Linux paths are case-sensitive).
// Both forms drop a trailing `.git` so `shop` and `shop.git` are the same repo, as the forges treat them.
import path from 'node:path';

const REMOTE_SCHEMES = new Set(['http:', 'https:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:']);

/** The normalized identity of a clone/web URL, or undefined when `url` is not one (e.g. a relative path). */
export function repoIdentity(url: string): string | undefined {
  const text = url.trim();
  if (text === '') return undefined;
  if (text.startsWith('/')) return localIdentity(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return urlIdentity(text);
  // scp-like syntax: [user@]host:path, which git recognizes only when no slash comes before the colon.
  const scp = /^(?:[^@/]+@)?([^:/]+):(.+)$/.exec(text);
  if (scp) return remoteIdentity(scp[1]!, scp[2]!);
  return undefined;
}

function urlIdentity(text: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'file:') {
    // file://host/path is only meaningful for the local host.
    if (parsed.hostname !== '' && parsed.hostname !== 'localhost') return undefined;
    return localIdentity(decodeURIComponent(parsed.pathname));
  }
  if (!REMOTE_SCHEMES.has(parsed.protocol.toLowerCase())) return undefined;
  return remoteIdentity(parsed.hostname, decodeURIComponent(parsed.pathname));
}

function remoteIdentity(host: string, repoPath: string): string | undefined {
  const hostname = host.toLowerCase().replace(/\.$/, '');
  const segments = stripGitSuffix(repoPath).split('/').filter((s) => s !== '');
  if (hostname === '' || segments.length === 0) return undefined;
  return `${hostname}/${segments.join('/')}`.toLowerCase();
}

function localIdentity(absolute: string): string | undefined {
  // A non-bare repo's hook may report its `.git` dir; it names the same repo as the work tree.
  const normalized = stripGitSuffix(path.posix.normalize(absolute).replace(/\/\.git\/*$/, ''));
  return normalized === '' || normalized === '/' ? undefined : `local:${normalized}`;
}

function stripGitSuffix(p: string): string {
  return p.replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '');
}
