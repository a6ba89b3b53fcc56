#!/usr/bin/env node
// The `norn` command: parses the command name and hands over. `serve` runs the service; the other commands talk to
// a running service's HTTP API (NORN_URL, NORN_API_TOKEN) or read local files.
import { serveCommand } from './cli/serve-command.js';
import { validateCommand } from './cli/validate-command.js';

type Command = (args: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: serveCommand, help: 'start the receiver (norn serve --help lists every setting)' },
  validate: { run: validateCommand, help: 'validate the app specs in a directory: norn validate [dir]' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.help}`);
  return `usage: norn <command> [args]\n\n${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`norn: unknown command ${name}\n${usage()}`);
    return 2;
  }
  return command.run(args, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`norn: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
