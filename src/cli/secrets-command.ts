// `norn secrets decrypt FILE`: an operator's local debugging tool; it reads the SOPS file directly, decrypts it with
// the identities in SOPS_AGE_KEY_FILE / SOPS_AGE_KEY (sops' own variables) and prints it as `sops -d` would.
// `norn secrets keys <app>`: the names in an app's secrets file as the receiver decrypts it (never the values),
// with a warning for each name the spec's `secrets` list expects but the file does not provide.
// `norn secrets set|delete <app> KEY`: see secrets-edit-commands.ts.
import { parseArgs } from 'node:util';
import { loadAgeIdentities } from '../integrations/sops/age-identities.js';
import { decryptSopsFile, renderDecrypted, type SopsFormat } from '../integrations/sops/decrypt-sops.js';
import { SopsError } from '../integrations/sops/sops-error.js';
import { apiCommand, processIo, type CliCommand } from './api-command.js';
import type { SecretKeysAnswer } from './ops-api-types.js';
import { secretsDeleteCommand, secretsSetCommand } from './secrets-edit-commands.js';

const DECRYPT_USAGE = 'norn secrets decrypt <file> [--format yaml|json|dotenv]';
const USAGE = 'norn secrets decrypt <file> | norn secrets keys <app> | norn secrets set <app> KEY (value on stdin) | norn secrets delete <app> KEY [--yes]';
const FORMATS: readonly SopsFormat[] = ['yaml', 'json', 'dotenv'];

export const secretsDecryptCommand: CliCommand = async (argv, env, io = processIo()) => {
  let file: string;
  let format: SopsFormat | undefined;
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { format: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (values.help) {
      io.out.write(`usage: ${DECRYPT_USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new Error('give one file');
    if (values.format !== undefined && !FORMATS.includes(values.format as SopsFormat)) throw new Error(`--format must be one of ${FORMATS.join(', ')}`);
    [file] = positionals as [string];
    format = values.format as SopsFormat | undefined;
  } catch (err) {
    io.err.write(`norn: ${(err as Error).message}\nusage: ${DECRYPT_USAGE}\n`);
    return 2;
  }
  try {
    const doc = await decryptSopsFile(file, await loadAgeIdentities(env), { format });
    const text = renderDecrypted(doc);
    io.out.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  } catch (err) {
    if (err instanceof SopsError) io.err.write(`norn: ${err.message}\n`);
    else if ((err as NodeJS.ErrnoException).code === 'ENOENT') io.err.write(`norn: ${file}: no such file\n`);
    else if (typeof (err as NodeJS.ErrnoException).code === 'string') io.err.write(`norn: cannot read ${file}: ${(err as Error).message}\n`);
    else throw err;
    return 1;
  }
};

export const secretsKeysCommand = apiCommand({
  usage: 'norn secrets keys <app>',
  positionals: { min: 1, max: 1 },
  async run({ api, args, io }) {
    const app = args.positionals[0]!;
    const answer = await api.get<SecretKeysAnswer>(`/api/apps/${encodeURIComponent(app)}/secrets`);
    io.out.write(answer.keys.map((k) => `${k}\n`).join(''));
    io.err.write(secretsKeysNotes(app, answer).map((l) => `${l}\n`).join(''));
    return 0;
  },
});

/** The lines beside the key names: what is skipped and what the spec expects but the file lacks. */
export function secretsKeysNotes(app: string, answer: SecretKeysAnswer): string[] {
  const notes = [`${answer.keys.length} key(s) in ${answer.file}`];
  if (answer.skipped.length > 0) notes.push(`note: not passed as env (nested or null): ${answer.skipped.join(', ')}`);
  for (const name of answer.missing) {
    notes.push(answer.skipped.includes(name)
      ? `warning: ${name} is in ${app}'s spec secrets list but is nested or null in ${answer.file}, so no task gets it`
      : `warning: ${name} is in ${app}'s spec secrets list but not in ${answer.file}`);
  }
  return notes;
}

export const secretsCommand: CliCommand = async (argv, env, io = processIo()) => {
  const [sub, ...rest] = argv;
  if (sub === 'decrypt') return secretsDecryptCommand(rest, env, io);
  if (sub === 'keys') return secretsKeysCommand(rest, env, io);
  if (sub === 'set') return secretsSetCommand(rest, env, io);
  if (sub === 'delete') return secretsDeleteCommand(rest, env, io);
  if (sub === '--help' || sub === '-h') {
    io.out.write(`usage: ${USAGE}\n`);
    return 0;
  }
  io.err.write(`${sub ? `norn: unknown secrets action ${sub}\n` : ''}usage: ${USAGE}\n`);
  return 2;
};
