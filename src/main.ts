#!/usr/bin/env node
// The `norn` command: parses the command name and hands over. `serve` runs the service; `validate` reads local
// files; the others talk to a running service's HTTP API (NORN_URL, default http://127.0.0.1:8800; NORN_API_TOKEN).
import { appsCommand, statusCommand } from './cli/app-commands.js';
import { canaryCommand, promoteCommand } from './cli/canary-command.js';
import { deliveriesCommand, deliveryCommand, redeliverCommand } from './cli/delivery-commands.js';
import { deployCommand } from './cli/deploy-command.js';
import { doctorCommand } from './cli/doctor-command.js';
import { ingressCommand, teardownCommand } from './cli/ingress-commands.js';
import { planCommand } from './cli/plan-command.js';
import { preflightCommand } from './cli/preflight-command.js';
import { rollbackCommand } from './cli/rollback-command.js';
import { logsCommand } from './cli/logs-command.js';
import { restartCommand, scaleCommand } from './cli/operation-commands.js';
import { invokeCommand, runsCommand } from './cli/run-commands.js';
import { cronCommand } from './cli/cron-commands.js';
import { sagaCommand } from './cli/saga-command.js';
import { secretsCommand } from './cli/secrets-command.js';
import { serveCommand } from './cli/serve-command.js';
import { snapshotsCommand } from './cli/snapshots-command.js';
import { validateCommand } from './cli/validate-command.js';
import { terminalSafe } from './cli/terminal-text.js';
import { watchCommand } from './cli/watch-command.js';

type Command = (args: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: serveCommand, help: 'start the receiver (norn serve --help lists every setting)' },
  validate: { run: validateCommand, help: 'validate the app specs in a directory: norn validate [dir]' },
  deploy: { run: deployCommand, help: 'deploy an app and follow it live: norn deploy <app> [ref] [--json]' },
  preflight: { run: preflightCommand, help: 'clone, build (no push), test and plan a ref, changing nothing, followed live: norn preflight <app> [ref] [--json]' },
  canary: { run: canaryCommand, help: 'an app\'s canaries and whether they wait for a decision: norn canary <app> | norn canary fail <app> [--yes]' },
  promote: { run: promoteCommand, help: 'promote the canaries waiting for it, rolling out the rest: norn promote <app> [--yes]' },
  rollback: { run: rollbackCommand, help: 'redeploy an earlier deploy\'s image, no build: norn rollback <app> [--to <saga|image>] [--restore-snapshot] [--yes] [--json]' },
  watch: { run: watchCommand, help: 'follow the live feed: norn watch [app]' },
  saga: { run: sagaCommand, help: 'a saga\'s event log: norn saga <id> | norn saga --app <app> [--limit N]' },
  apps: { run: appsCommand, help: 'the apps with their last deploy' },
  status: { run: statusCommand, help: 'an app\'s current image, running step and recent deploys: norn status <app>' },
  deliveries: { run: deliveriesCommand, help: 'recent webhook deliveries and their verdicts: norn deliveries [--app A]' },
  delivery: { run: deliveryCommand, help: 'why a delivery did or did not deploy: norn delivery <id>' },
  redeliver: { run: redeliverCommand, help: 'run a recorded delivery again: norn redeliver <id>' },
  plan: { run: planCommand, help: 'the Nomad jobs a deploy would register and what would change: norn plan <app> [--image TAG]' },
  runs: { run: runsCommand, help: 'recent runs of an app\'s scheduled and function processes: norn runs <app> [process] [--limit N]' },
  invoke: { run: invokeCommand, help: 'run a function process once and print its output: norn invoke <app> <process> [args...] [--payload FILE|-]' },
  cron: { run: cronCommand, help: 'scheduled processes: norn cron <app> [run <process> [--wait] | pause <process> | resume <process> | history <process>]' },
  secrets: { run: secretsCommand, help: 'norn secrets decrypt <file> (local, with SOPS_AGE_KEY_FILE) | norn secrets keys <app> | norn secrets set <app> KEY (value from stdin) | norn secrets delete <app> KEY [--yes]' },
  snapshots: { run: snapshotsCommand, help: 'database snapshots: norn snapshots <app> [restore <ts> [--pre-restore] [--yes] | take | export <ts> [-o file|-] | import <file> [--yes]]' },
  logs: { run: logsCommand, help: 'an app\'s instances\' output, prefixed by instance: norn logs <app> [process] [-f] [--since 10m] [--tail N] [--json]' },
  scale: { run: scaleCommand, help: 'run n instances of a service process, health gated: norn scale <app> <process> <n> [--yes]' },
  restart: { run: restartCommand, help: 'restart an app\'s instances one at a time, each healthy before the next: norn restart <app> [process] [--yes]' },
  teardown: { run: teardownCommand, help: 'remove an app\'s cloudflared ingress rules and, on the Docker runtime, stop and remove its containers: norn teardown <app> [--yes]' },
  ingress: { run: ingressCommand, help: 'cloudflared\'s current ingress rules' },
  doctor: { run: doctorCommand, help: 'which integrations the receiver is configured for, and which answer; exit 1 when one does not' },
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

// `norn saga <id> | head` closes the pipe while norn still writes: the reader has what it wanted, so stop quietly
// (as a command killed by SIGPIPE would) rather than die on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(terminalSafe(`norn: ${err instanceof Error ? err.message : String(err)}\n`));
    process.exitCode = 1;
  },
);
