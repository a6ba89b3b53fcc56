// `norn runs <app> [process]` (recent runs of scheduled and function processes; with a process, on either runtime)
// and `norn invoke <app> <process> [args] [--payload FILE|-]` (runs a function process and prints its output; the
// exit code is 0 when the run exited 0; the payload reaches the function as the file $NORN_PAYLOAD_FILE).
import fs from 'node:fs/promises';
import { apiCommand, UsageError } from './api-command.js';

export interface RunView {
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
  nomadJobId?: string;
}

/** Nomad's dispatch limit, also kept on Docker; the receiver checks it too. */
const MAX_PAYLOAD_BYTES = 16 * 1024;

export const runsCommand = apiCommand({
  usage: 'norn runs <app> [process] [--limit N]',
  options: { limit: { type: 'string' } },
  positionals: { min: 1, max: 2 },
  async run({ api, args, io }) {
    const [app, process] = args.positionals as [string, string?];
    const path = process === undefined ? `/api/apps/${encodeURIComponent(app)}/runs` : `/api/apps/${encodeURIComponent(app)}/processes/${encodeURIComponent(process)}/runs`;
    const { runs } = await api.get<{ runs: RunView[] }>(path, { limit: args.values.limit as string | undefined });
    io.out.write(`${runs.length ? runs.map(runRow).join('\n') : 'no runs yet'}\n`);
    return 0;
  },
});

export function invokeCommandWith(deps: { stdin?: AsyncIterable<Buffer | string> | Iterable<Buffer | string> } = {}) {
  return apiCommand({
    usage: 'norn invoke <app> <process> [args...] [--payload FILE|-]',
    options: { payload: { type: 'string' } },
    positionals: { min: 2, max: 66 },
    async run({ api, args, io }) {
      const [app, process, ...rest] = args.positionals;
      const from = args.values.payload as string | undefined;
      const payload = from === undefined ? undefined : await readPayload(from, deps.stdin ?? globalThis.process.stdin);
      const body = { args: rest, ...(payload ? { payload: payload.toString('base64') } : {}) };
      const run = await api.post<RunView>(`/api/apps/${encodeURIComponent(app!)}/processes/${encodeURIComponent(process!)}/invoke`, body);
      if (run.logTail) io.out.write(run.logTail.endsWith('\n') ? run.logTail : `${run.logTail}\n`);
      io.err.write(`${runRow(run)}\n`);
      return run.status === 'succeeded' ? 0 : 1;
    },
  });
}

export const invokeCommand = invokeCommandWith();

/** The payload from a file, or stdin for `-`; refused locally past 16 KiB. */
async function readPayload(from: string, stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<Buffer> {
  let bytes: Buffer;
  if (from === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    bytes = Buffer.concat(chunks);
  } else {
    bytes = await fs.readFile(from).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the payload file ${from}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
  }
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new UsageError(`the payload is ${bytes.length} bytes; at most ${MAX_PAYLOAD_BYTES} (16 KiB)`);
  return bytes;
}

export function runRow(r: RunView): string {
  const outcome = r.error ? `failed: ${r.error}` : r.timedOut ? 'timed out' : r.exitCode === null ? r.status : `exit ${r.exitCode}`;
  const took = r.durationMs === null ? '' : ` in ${(r.durationMs / 1000).toFixed(1)}s`;
  const where = r.nomadJobId ? `  ${r.nomadJobId}` : '';
  return `${r.startedAt.slice(0, 19).replace('T', ' ')}  ${r.process} (${r.trigger})  ${outcome}${took}  ${r.sagaId || '-'}${where}`;
}
