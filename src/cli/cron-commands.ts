// `norn cron <app>`: the app's scheduled processes (cron spec, time zone, paused or not), and
// `norn cron <app> run|pause|resume|history <process>`: run one now (--wait follows it to its end), stop or restart
// its schedule, list its runs. Changing verbs act at once (nothing is replaced or lost: a paused schedule resumes,
// a run is one more run), so none asks for confirmation; each prints the saga that records it.
import { apiCommand, UsageError } from './api-command.js';
import type { ApiClient } from './api-client.js';
import { runRow, type RunView } from './run-commands.js';

interface ScheduleView {
  process: string;
  cron: string;
  timeZone: string | null;
  paused: { sagaId: string; pausedAt: string } | null;
}

interface PauseAnswer {
  sagaId: string;
  process: string;
  paused: boolean;
  changed: boolean;
  nomad?: string;
}

const VERBS = ['run', 'pause', 'resume', 'history'] as const;

export function cronCommandWith(deps: { pollMs?: number } = {}) {
  return apiCommand({
    usage: 'norn cron <app> | norn cron <app> run <process> [--wait] | norn cron <app> pause|resume <process> | norn cron <app> history <process> [--limit N]',
    options: { wait: { type: 'boolean' }, limit: { type: 'string' } },
    positionals: { min: 1, max: 3 },
    async run({ api, args, io }) {
      const [app, verb, process] = args.positionals as [string, string?, string?];
      const appPath = `/api/apps/${encodeURIComponent(app)}`;
      if (args.values.wait && verb !== 'run') throw new UsageError('--wait goes with run');
      if (args.values.limit !== undefined && verb !== 'history') throw new UsageError('--limit goes with history');
      if (verb === undefined) {
        const { schedules } = await api.get<{ schedules: ScheduleView[] }>(`${appPath}/schedules`);
        io.out.write(`${schedules.length ? schedules.map(scheduleRow).join('\n') : `${app} has no scheduled processes`}\n`);
        return 0;
      }
      if (!(VERBS as readonly string[]).includes(verb)) throw new UsageError(`unknown cron action ${verb}: run, pause, resume or history`);
      if (process === undefined) throw new UsageError(`${verb} needs the scheduled process (norn cron ${app} lists them)`);
      const processPath = `${appPath}/processes/${encodeURIComponent(process)}`;
      if (verb === 'history') {
        const { runs } = await api.get<{ runs: RunView[] }>(`${processPath}/runs`, { limit: args.values.limit as string | undefined });
        io.out.write(`${runs.length ? runs.map(runRow).join('\n') : `no runs of ${process} yet`}\n`);
        return 0;
      }
      if (verb === 'pause' || verb === 'resume') {
        const answer = await api.post<PauseAnswer>(`${processPath}/${verb}`);
        const state = answer.paused ? 'paused: it does not run on its schedule until resumed' : 'resumed: it runs on its schedule again';
        io.out.write(`${process} ${answer.changed ? state : `was ${answer.paused ? 'paused' : 'not paused'} already`}${answer.nomad ? ` (Nomad: ${answer.nomad})` : ''}\n  saga ${answer.sagaId}\n`);
        return 0;
      }
      const started = await api.post<{ sagaId: string; nomadJobId?: string }>(`${processPath}/run`);
      io.out.write(`${process} started${started.nomadJobId ? ` as Nomad job ${started.nomadJobId}` : ''}\n  saga ${started.sagaId}\n`);
      if (!args.values.wait) {
        io.err.write(`follow it with: norn cron ${app} history ${process}\n`);
        return 0;
      }
      const run = await waitForRun(api, processPath, started, deps.pollMs ?? 1000);
      if (run.logTail) io.out.write(run.logTail.endsWith('\n') ? run.logTail : `${run.logTail}\n`);
      io.err.write(`${runRow(run)}\n`);
      return run.status === 'succeeded' ? 0 : 1;
    },
  });
}

export const cronCommand = cronCommandWith();

/** Polls the process's history until the run started as `started` has ended. */
async function waitForRun(api: ApiClient, processPath: string, started: { sagaId: string; nomadJobId?: string }, pollMs: number): Promise<RunView> {
  for (;;) {
    const { runs } = await api.get<{ runs: RunView[] }>(`${processPath}/runs`, { limit: 100 });
    const run = runs.find((r) => (started.nomadJobId ? r.nomadJobId === started.nomadJobId : r.sagaId === started.sagaId));
    if (run && run.status !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function scheduleRow(s: ScheduleView): string {
  const zone = s.timeZone ? ` (${s.timeZone})` : ' (UTC)';
  const state = s.paused ? `paused since ${s.paused.pausedAt.slice(0, 19).replace('T', ' ')}` : 'active';
  return `${s.process}  ${s.cron}${zone}  ${state}`;
}
