// `norn scale <app> <process> <n> [--yes]` and `norn restart <app> [process] [--yes]`: both change what runs, so
// on a terminal the operator types the app's name first (--yes skips it; no terminal and no --yes refuses). The
// receiver answers with the operation's saga at once; the command then prints that saga's progress lines until it
// completes (exit 0) or fails (exit 1, with the instance and the reason), `--json` prints the final events instead.
import type { ApiClient } from './api-client.js';
import { apiCommand, type CliIo, UsageError } from './api-command.js';
import { confirmByName, terminalConfirmer, type Confirmer } from './confirm.js';
import { oneLine } from './terminal-text.js';

interface OperationEvent {
  readonly seq: number;
  readonly action: string;
  readonly message: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface OperationCommandDeps {
  readonly confirmer?: Confirmer;
  /** Between two reads of the saga. */
  readonly pollMs?: number;
}

export function scaleCommandWith(deps: OperationCommandDeps = {}) {
  return apiCommand({
    usage: 'norn scale <app> <process> <n> [--yes] [--json]',
    options: { yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' } },
    positionals: { min: 3, max: 3 },
    async run({ api, args, io }) {
      const [app, process, n] = args.positionals as [string, string, string];
      const count = Number(n);
      if (!/^\d+$/.test(n) || !Number.isSafeInteger(count)) throw new UsageError(`<n> must be a whole number of instances, not ${JSON.stringify(n)}`);
      const yes = args.values.yes === true;
      if (!(await confirmByName({ app, action: `run ${count} instance(s) of ${app}'s ${process}`, yes }, deps.confirmer ?? terminalConfirmer(), io))) return 1;
      const { sagaId } = await api.post<{ sagaId: string }>(`/api/apps/${encodeURIComponent(app)}/scale`, { process, count });
      return followOperation(api, sagaId, io, { json: args.values.json === true, pollMs: deps.pollMs });
    },
  });
}

export function restartCommandWith(deps: OperationCommandDeps = {}) {
  return apiCommand({
    usage: 'norn restart <app> [process] [--yes] [--json]',
    options: { yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' } },
    positionals: { min: 1, max: 2 },
    async run({ api, args, io }) {
      const [app, process] = args.positionals as [string, string?];
      const yes = args.values.yes === true;
      const what = process ? `${app}'s ${process} instances` : `every instance of ${app}`;
      if (!(await confirmByName({ app, action: `restart ${what}, one at a time`, yes }, deps.confirmer ?? terminalConfirmer(), io))) return 1;
      const { sagaId } = await api.post<{ sagaId: string }>(`/api/apps/${encodeURIComponent(app)}/restart`, process ? { process } : {});
      return followOperation(api, sagaId, io, { json: args.values.json === true, pollMs: deps.pollMs });
    },
  });
}

export const scaleCommand = scaleCommandWith();
export const restartCommand = restartCommandWith();

/** Prints the saga's lines as they are recorded, until it ends; 0 when it completed. */
async function followOperation(api: ApiClient, sagaId: string, io: CliIo, opts: { json: boolean; pollMs?: number }): Promise<number> {
  if (!opts.json) io.err.write(`saga ${sagaId} (norn saga ${sagaId})\n`);
  let shown = 0;
  for (;;) {
    const { events } = await api.get<{ events: OperationEvent[] }>(`/api/sagas/${encodeURIComponent(sagaId)}`);
    const end = events.find((e) => e.action === 'operation.complete' || e.action === 'operation.failed');
    if (opts.json) {
      if (end) {
        io.out.write(`${JSON.stringify({ sagaId, ok: end.action === 'operation.complete', events }, null, 2)}\n`);
        return end.action === 'operation.complete' ? 0 : 1;
      }
    } else {
      for (const e of events.slice(shown)) {
        if (e.action === 'operation.failed') io.err.write(`norn: ${oneLine(e.message)}\n`);
        else io.out.write(`${e.action === 'operation.complete' ? '✓ ' : '  '}${oneLine(e.message)}\n`);
      }
      shown = events.length;
      if (end) return end.action === 'operation.complete' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 500));
  }
}
