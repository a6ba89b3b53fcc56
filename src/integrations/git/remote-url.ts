// Which git remotes Norn will ever hand to git: an allow-list of transports, checked where a spec is validated
// and again before every git command. git also understands transport helpers (`ext::<command>`, `fd::<n>`,
// `<helper>::<address>`) and reads an argument that starts with `-` as an option, so a URL like
// `ext::sh -c …` or `--upload-pack=…` runs a command on this machine. Only these forms pass:
//   https://host/path  http://host/path  ssh://[user@]host[:port]/path  [user@]host:path (scp-style)
//   file:///abs/path   /abs/path
// The same transports are given to git as GIT_ALLOW_PROTOCOL, so a URL that slipped past this check (or a
// submodule or redirect naming another transport) is refused by git itself.
import { hasControlCharacters } from '../../text/control-characters.js';

/** git's protocol names for the allowed transports (GIT_ALLOW_PROTOCOL is colon-separated). */
export const ALLOWED_GIT_PROTOCOLS = ['https', 'http', 'ssh', 'file'] as const;

/** What a spec's `repo.url` may look like, for error messages. */
export const REMOTE_URL_FORMS = 'https://host/owner/repo, http://host/…, ssh://[user@]host/path, user@host:owner/repo, file:///abs/path or /abs/path';

/** A host name, IPv4 address or bracketed IPv6 address: letters, digits, dots, dashes (no leading dash). */
const PLAIN_HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$/i;
/** A user name before `@`: no option-looking or shell-meaningful characters. */
const PLAIN_USER = /^[a-z0-9_][a-z0-9._-]*$/i;

/** Why `url` is not an allowed git remote, or undefined when it is. The reason never echoes the value. */
export function remoteUrlProblem(url: string): string | undefined {
  if (url.trim() === '') return 'must not be empty';
  if (url !== url.trim()) return 'must not start or end with whitespace';
  if (hasControlCharacters(url)) return 'must not contain control characters';
  if (/\s/.test(url)) return 'must not contain whitespace';
  if (url.startsWith('-')) return 'must not start with "-" (git would read it as an option)';
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) return 'must not name a git transport helper (<transport>::<address>, e.g. ext::)';
  if (url.startsWith('/')) return url.length > 1 ? undefined : 'must name a repository, not /';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) return schemeUrlProblem(scheme, url);
  return scpProblem(url);
}

function schemeUrlProblem(scheme: string, url: string): string | undefined {
  if (!(ALLOWED_GIT_PROTOCOLS as readonly string[]).includes(scheme)) {
    return `uses the ${scheme}:// transport; allowed are https, http, ssh and file`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (scheme === 'file') {
    if (parsed.hostname !== '' && parsed.hostname !== 'localhost') return 'file:// URLs must name a local path (file:///abs/path)';
    return parsed.pathname.length > 1 ? undefined : 'must name a repository path';
  }
  // The host git sees is the text between `//` and the next `/`, `:` or `@` boundary; URL parsing lower-cases and
  // percent-decodes it, so check the raw authority as well: ssh://-oProxyCommand=… must not reach ssh as an option.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '');
  if (!PLAIN_HOST.test(hostPart)) return 'must name a plain host (letters, digits, dots, dashes)';
  if (scheme === 'ssh' && authority.includes('@') && !PLAIN_USER.test(decodeURIComponent(authority.slice(0, authority.lastIndexOf('@'))))) {
    return 'must name a plain user before @';
  }
  if (parsed.pathname.length <= 1) return 'must name a repository path after the host';
  return undefined;
}

/** scp-style `[user@]host:path`: git reads it so only when no `/` comes before the first `:`. */
function scpProblem(url: string): string | undefined {
  const match = /^(?:([^@/:]+)@)?([^/:]+):(.+)$/.exec(url);
  if (!match) return `is not a clone URL (${REMOTE_URL_FORMS})`;
  const [, user, host, repoPath] = match;
  if (user !== undefined && !PLAIN_USER.test(user)) return 'must name a plain user before @';
  if (!PLAIN_HOST.test(host!)) return 'must name a plain host (letters, digits, dots, dashes) before ":"';
  if (repoPath!.startsWith('-')) return 'the path after ":" must not start with "-"';
  return undefined;
}

/** A remote URL as it may be shown: user info (which may carry a credential) removed. */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}
