// `norn secrets set <app> KEY` (the value from stdin) and `norn secrets delete <app> KEY [--yes]`: edit the app's
// secrets file on the receiver, through the API. The value goes into the request body and nowhere else: not the
// command line, not the terminal (read with echo off), not what is printed.
import { apiCommand, UsageError } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import type { SecretEditAnswer } from './ops-api-types.js';
import { stdinSecretInput, withoutFinalNewline, type SecretValueInput } from './secret-value-input.js';

/** The receiver refuses more (MAX_SECRET_BYTES); reading stops a little past it. */
const MAX_READ_BYTES = 32 * 1024 + 2;

export function secretsSetCommandWith(deps: { input?: SecretValueInput } = {}) {
  return apiCommand({
    usage: 'norn secrets set <app> KEY   (value from stdin: typed unseen on a terminal, or piped)',
    positionals: { min: 2, max: 3 },
    async run({ api, args, io }) {
      const [app, key] = args.positionals as [string, string];
      if (args.positionals.length > 2) throw new UsageError('the value is read from stdin, never from the command line (it would show in ps and shell history)');
      const input = deps.input ?? stdinSecretInput();
      const value = await readValue(input, key);
      if (value === undefined) {
        io.err.write('norn: no value read; nothing was changed\n');
        return 1;
      }
      const answer = await api.put<SecretEditAnswer>(`/api/apps/${encodeURIComponent(app)}/secrets/${encodeURIComponent(key)}`, { value });
      printAnswer(answer, io);
      return 0;
    },
  });
}

export function secretsDeleteCommandWith(deps: { confirmer?: Confirmer } = {}) {
  return apiCommand({
    usage: 'norn secrets delete <app> KEY [--yes]',
    options: { yes: { type: 'boolean', short: 'y' } },
    positionals: { min: 2, max: 2 },
    async run({ api, args, io }) {
      const [app, key] = args.positionals as [string, string];
      const action = `delete ${key} from ${app}'s secrets file (its next deploy runs without it)`;
      if (!(await confirmByName({ app, action, yes: args.values.yes === true }, deps.confirmer ?? terminalConfirmer(), io))) return 1;
      printAnswer(await api.delete<SecretEditAnswer>(`/api/apps/${encodeURIComponent(app)}/secrets/${encodeURIComponent(key)}`), io);
      return 0;
    },
  });
}

export const secretsSetCommand = secretsSetCommandWith();
export const secretsDeleteCommand = secretsDeleteCommandWith();

/** Twice on a terminal (a typo nobody sees is caught); once from a pipe. Undefined when nothing came. */
async function readValue(input: SecretValueInput, key: string): Promise<string | undefined> {
  if (!input.isInteractive) {
    const text = await input.readAll(MAX_READ_BYTES);
    if (text === undefined) throw new UsageError(`the value on stdin is longer than ${MAX_READ_BYTES - 2} bytes`);
    return text === '' ? undefined : withoutFinalNewline(text);
  }
  const first = await input.readHidden(`value for ${key} (not shown): `);
  if (!first) return undefined;
  const again = await input.readHidden(`value for ${key} again: `);
  if (again !== first) throw new UsageError('the two values typed differ; nothing was changed');
  return first;
}

function printAnswer(answer: SecretEditAnswer, io: { out: { write(s: string): unknown }; err: { write(s: string): unknown } }): void {
  io.out.write(`${outcomeLine(answer)} (saga ${answer.sagaId})\n`);
  io.err.write(answer.notes.map((note) => `note: ${note}\n`).join(''));
}

function outcomeLine(answer: SecretEditAnswer): string {
  switch (answer.outcome) {
    case 'added':
      return `${answer.key} added to ${answer.file}`;
    case 'replaced':
      return `${answer.key} changed in ${answer.file}`;
    case 'unchanged':
      return `${answer.key} already has that value in ${answer.file}; nothing written`;
    case 'deleted':
      return `${answer.key} deleted from ${answer.file}`;
    case 'absent':
      return `${answer.key} is not in ${answer.file}`;
  }
}
