// Which build args a Dockerfile declares (`ARG NAME` or `ARG NAME=default`, in any stage, several per line), and
// which stage names it has (`FROM ... AS name`). The engine warns about every build arg no ARG consumes, so the
// build step passes only declared ones. Line continuations follow the escape parser directive (`\` or a backtick).

/** Args Docker accepts without an ARG (the proxy settings). */
export const PREDEFINED_ARGS: ReadonlySet<string> = new Set(
  ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((n) => [n, n.toLowerCase()]),
);

export interface DockerfileFacts {
  readonly args: ReadonlySet<string>;
  readonly stages: readonly string[];
  /** True when a RUN/COPY uses a heredoc (`<<EOF`), which needs Dockerfile syntax 1.4 (Docker Engine 23+). */
  readonly hasHeredoc: boolean;
}

export function dockerfileFacts(text: string): DockerfileFacts {
  const args = new Set<string>();
  const stages: string[] = [];
  let hasHeredoc = false;
  for (const instruction of instructions(text)) {
    const [keyword = '', ...rest] = instruction.trim().split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'ARG') {
      for (const word of rest) {
        const name = /^([A-Za-z_][A-Za-z0-9_]*)(=|$)/.exec(word)?.[1];
        if (name) args.add(name);
      }
    } else if (upper === 'FROM') {
      const as = rest.findIndex((w) => w.toUpperCase() === 'AS');
      if (as >= 0 && rest[as + 1]) stages.push(rest[as + 1]!.toLowerCase());
    } else if ((upper === 'RUN' || upper === 'COPY') && /<<-?["']?[A-Za-z_]/.test(instruction)) {
      hasHeredoc = true;
    }
  }
  return { args, stages, hasHeredoc };
}

/** The Dockerfile's instructions with continuation lines joined and comment lines dropped. */
function instructions(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const escape = /^#\s*escape\s*=\s*`/i.test(lines.find((l) => l.trim() !== '') ?? '') ? '`' : '\\';
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    if (/^\s*#/.test(line)) continue; // a comment, also inside a continuation
    const trimmed = line.trimEnd();
    if (trimmed.endsWith(escape)) {
      current += `${trimmed.slice(0, -1)} `;
      continue;
    }
    current += trimmed;
    if (current.trim() !== '') out.push(current);
    current = '';
  }
  if (current.trim() !== '') out.push(current);
  return out;
}
