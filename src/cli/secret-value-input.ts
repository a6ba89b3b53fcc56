// Where `norn secrets set` reads the value: never the command line (it would sit in `ps` and shell history). On
// a terminal it asks twice with echo off, so a typo in what nobody can see is caught; from a pipe or file it
// reads everything, less one trailing newline (what `echo`, `printf '%s\n'` and editors add).

export interface SecretValueInput {
  /** Whether a person is typing: stdin is a terminal. */
  readonly isInteractive: boolean;
  /** The whole of stdin, or undefined when it holds more than `maxBytes`. */
  readAll(maxBytes: number): Promise<string | undefined>;
  /** Shows `prompt` (on stderr) and reads one line without echoing it; undefined on Ctrl-C or end of input. */
  readHidden(prompt: string): Promise<string | undefined>;
}

/** The trailing newline a pipe or a file usually ends with, removed once. */
export function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export function stdinSecretInput(input: NodeJS.ReadStream = process.stdin, prompts: NodeJS.WriteStream = process.stderr): SecretValueInput {
  return {
    isInteractive: input.isTTY === true,
    async readAll(maxBytes) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of input) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        size += bytes.length;
        if (size > maxBytes) {
          input.destroy();
          return undefined;
        }
        chunks.push(bytes);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    readHidden: (prompt) => readHiddenLine(input, prompts, prompt),
  };
}

/** Raw mode, so the terminal does not echo; the characters are collected here, Backspace honoured. */
function readHiddenLine(input: NodeJS.ReadStream, prompts: NodeJS.WriteStream, prompt: string): Promise<string | undefined> {
  prompts.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  let typed = '';
  return new Promise((resolve) => {
    const finish = (value: string | undefined) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      prompts.write('\n');
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return finish(typed);
        if (c === '\u0003' || c === '\u0004') return finish(undefined); // Ctrl-C, Ctrl-D
        if (c === '\u007f' || c === '\b') typed = [...typed].slice(0, -1).join('');
        else if (c >= ' ') typed += c;
      }
    };
    input.on('data', onData);
  });
}
