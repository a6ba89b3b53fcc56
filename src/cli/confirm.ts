// Commands that destroy something (a restore replaces a database's data, a teardown takes an app off the
// internet) ask a person to type the app's name first. --yes skips the question; with no terminal to ask on and
// no --yes they refuse rather than assume.
import { createInterface } from 'node:readline/promises';
import type { CliIo } from './api-command.js';

export interface Confirmer {
  /** Whether a person can answer: stdin is a terminal. */
  readonly isInteractive: boolean;
  /** Shows `question` and resolves with the line typed ('' on end of input or Ctrl-C). */
  ask(question: string): Promise<string>;
}

/** Asks on the terminal: the question goes to stderr, so stdout stays the command's output. */
export function terminalConfirmer(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Confirmer {
  return {
    isInteractive: input.isTTY === true,
    async ask(question) {
      const rl = createInterface({ input, output, terminal: true });
      try {
        return await new Promise<string>((resolve) => {
          rl.once('close', () => resolve(''));
          rl.once('SIGINT', () => rl.close());
          rl.question(question).then(resolve, () => resolve(''));
        });
      } finally {
        rl.close();
      }
    },
  };
}

export interface ConfirmRequest {
  readonly app: string;
  /** What going ahead does, completing "This will …". */
  readonly action: string;
  /** --yes was given. */
  readonly yes: boolean;
}

/** True to go ahead; otherwise says on stderr why nothing was done. */
export async function confirmByName(req: ConfirmRequest, confirmer: Confirmer, io: CliIo): Promise<boolean> {
  if (req.yes) return true;
  if (!confirmer.isInteractive) {
    io.err.write(`norn: refused: this would ${req.action}; no terminal to confirm on, so repeat with --yes\n`);
    return false;
  }
  const answer = (await confirmer.ask(`This will ${req.action}.\nType the app name (${req.app}) to confirm: `)).trim();
  if (answer === req.app) return true;
  io.err.write(`norn: not confirmed${answer ? ` (${JSON.stringify(answer)} is not ${req.app})` : ''}; nothing was done\n`);
  return false;
}
