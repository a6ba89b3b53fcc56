// The shape every API-talking command shares: parse its arguments (node:util parseArgs), answer --help, build the
// ApiClient from the environment, and turn an ApiError into one line on stderr. Exit codes: 0 ok, 1 the API
// refused or the operation failed, 2 bad usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, ApiError } from './api-client.js';
import { terminalIo } from './terminal-text.js';

/** Where a command writes; process.stdout in real use, an in-memory sink in tests. */
export interface Output {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly out: Output;
  readonly err: Output;
}

export type Env = Readonly<Record<string, string | undefined>>;

export type CliCommand = (args: readonly string[], env: Env, io?: CliIo) => Promise<number>;

export function processIo(): CliIo {
  return { out: process.stdout, err: process.stderr };
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: readonly string[];
}

export interface ApiCommandSpec {
  /** First line is the synopsis, e.g. `norn saga <id>`. */
  readonly usage: string;
  readonly options?: Options;
  readonly positionals: { readonly min: number; readonly max: number };
  run(ctx: { api: ApiClient; args: ParsedArgs; io: CliIo; env: Env }): Promise<number>;
}

export function apiCommand(spec: ApiCommandSpec): CliCommand {
  return async (argv, env, rawIo = processIo()) => {
    // Every write below, and every write of the command, is made terminal-safe: the receiver's text is untrusted.
    const io = terminalIo(rawIo);
    let args: ParsedArgs;
    try {
      const parsed = parseArgs({ args: [...argv], options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
      args = { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
    } catch (err) {
      io.err.write(`norn: ${(err as Error).message}\nusage: ${spec.usage}\n`);
      return 2;
    }
    if (args.values.help) {
      io.out.write(`usage: ${spec.usage}\n`);
      return 0;
    }
    const n = args.positionals.length;
    if (n < spec.positionals.min || n > spec.positionals.max) {
      io.err.write(`usage: ${spec.usage}\n`);
      return 2;
    }
    try {
      return await spec.run({ api: ApiClient.fromEnv(env), args, io, env });
    } catch (err) {
      if (err instanceof ApiError) {
        io.err.write(`norn: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
        return 1;
      }
      if (err instanceof UsageError) {
        io.err.write(`norn: ${err.message}\nusage: ${spec.usage}\n`);
        return 2;
      }
      throw err;
    }
  };
}

/** The command line is wrong; printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A positive integer option such as --limit. */
export function intOption(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}
