// `norn runs <app>` (recent runs of scheduled and function processes) and `norn invoke <app> <process> [args]`
// (runs a function process and prints its output; the exit code is 0 when the run exited 0).
import { apiCommand } from './api-command.js';

interface RunView {
  sagaId: string;
  process: string;
  trigger: string;
  image: string;
  startedAt: string;
  status: string;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number | null;
  logTail: string;
  error?: string;
}

export const runsCommand = apiCommand({
  usage: 'norn runs <app> [--limit N]',
  options: { limit: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ api, args, io }) {
    const { runs } = await api.get<{ runs: RunView[] }>(`/api/apps/${encodeURIComponent(args.positionals[0]!)}/runs`, { limit: args.values.limit as string | undefined });
    io.out.write(`${runs.length ? runs.map(runRow).join('\n') : 'no runs yet'}\n`);
    return 0;
  },
});

export const invokeCommand = apiCommand({
  usage: 'norn invoke <app> <process> [args...]',
  positionals: { min: 2, max: 66 },
  async run({ api, args, io }) {
    const [app, process, ...rest] = args.positionals;
    const run = await api.post<RunView>(`/api/apps/${encodeURIComponent(app!)}/processes/${encodeURIComponent(process!)}/invoke`, { args: rest });
    if (run.logTail) io.out.write(run.logTail.endsWith('\n') ? run.logTail : `${run.logTail}\n`);
    io.err.write(`${runRow(run)}\n`);
    return run.status === 'succeeded' ? 0 : 1;
  },
});

function runRow(r: RunView): string {
  const outcome = r.error ? `failed: ${r.error}` : r.timedOut ? 'timed out' : r.exitCode === null ? r.status : `exit ${r.exitCode}`;
  const took = r.durationMs === null ? '' : ` in ${(r.durationMs / 1000).toFixed(1)}s`;
  return `${r.startedAt.slice(0, 19).replace('T', ' ')}  ${r.process} (${r.trigger})  ${outcome}${took}  ${r.sagaId}`;
}
