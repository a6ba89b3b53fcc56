// Everything the CLI prints passes through `terminalSafe`: text from the receiver (repository names, refs, commit
// messages, error text from git, Docker, Nomad, forges) is untrusted, and a terminal acts on the control
// characters in it: `\e[2J` clears the screen, `\e]0;…\a` retitles the window, `\r` overwrites a line, the C1
// byte U+009B starts a sequence on its own, bidi overrides reorder what is shown. Each is printed as a visible
// `\uXXXX` escape instead (valid inside JSON strings, so `--json` output stays parseable).
// Commands get an Output that applies it to every write (apiCommand wraps them all); only the live deploy frame
// writes its own cursor movements, through `rawOutput`, and escapes its lines itself.
import type { CliIo, Output } from './api-command.js';

/** C0 controls but newline and tab, DEL, C1 controls, bidi embeddings/overrides/isolates, line/paragraph separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with every control character shown as `\uXXXX`; newlines and tabs are kept (they lay out output). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** One table cell or one-line field: newlines and tabs are escaped too, so a value cannot forge extra lines. */
export function oneLine(value: unknown): string {
  return String(value ?? '').replace(UNSAFE_ONE_LINE, escape);
}

/** An Output whose every write is made terminal-safe. */
export class TerminalOutput implements Output {
  constructor(readonly raw: Output) {}

  write(chunk: string): unknown {
    return this.raw.write(terminalSafe(chunk));
  }

  get isTTY(): boolean | undefined {
    return this.raw.isTTY;
  }

  get columns(): number | undefined {
    return this.raw.columns;
  }
}

export function terminalIo(io: CliIo): CliIo {
  return { out: io.out instanceof TerminalOutput ? io.out : new TerminalOutput(io.out), err: io.err instanceof TerminalOutput ? io.err : new TerminalOutput(io.err) };
}

/** The stream under a TerminalOutput, for the one writer that emits its own cursor control (the deploy frame). */
export function rawOutput(out: Output): Output {
  return out instanceof TerminalOutput ? out.raw : out;
}
