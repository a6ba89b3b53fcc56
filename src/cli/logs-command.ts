// `norn logs <app> [process] [-f] [--since 10m] [--tail N] [--json]`: the app's instances' output, each line
// prefixed by the instance that wrote it (`web/3f2a9c1b0d4e`). stdout lines go to stdout, stderr lines to stderr.
// The text comes from the app, so it is printed through terminalSafe (apiCommand's output) and one line at a time:
// an escape sequence or a carriage return in it shows as `\u001b`, it cannot clear the screen or forge a line.
import { apiCommand, intOption, UsageError } from './api-command.js';
import { oneLine } from './terminal-text.js';

interface LogRecord {
  readonly process?: string;
  readonly instance?: string;
  readonly stream?: string;
  readonly text?: string;
  readonly error?: string;
}

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

export const logsCommand = apiCommand({
  usage: 'norn logs <app> [process] [-f|--follow] [--since 10m] [--tail N] [--json]',
  options: { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' }, tail: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 2 },
  async run({ api, args, io }) {
    const [app, process] = args.positionals as [string, string?];
    const since = args.values.since;
    if (since !== undefined && (typeof since !== 'string' || !DURATION.test(since))) throw new UsageError('--since takes a duration such as 10m, 1h30m or 45s');
    const tail = intOption(args.values.tail, 'tail');
    const follow = args.values.follow === true;
    const body = await api.stream(`/api/apps/${encodeURIComponent(app)}/logs`, { process, follow: follow ? 'true' : undefined, since: since as string | undefined, tail });
    let failed = false;
    for await (const record of records(body)) {
      if (args.values.json) {
        io.out.write(`${JSON.stringify(record)}\n`);
        continue;
      }
      if (record.error !== undefined) {
        io.err.write(`norn: the log stream stopped: ${oneLine(record.error)}\n`);
        failed = true;
        continue;
      }
      const line = `${oneLine(record.process)}/${oneLine(record.instance)} ${oneLine(record.text)}\n`;
      (record.stream === 'stderr' ? io.err : io.out).write(line);
    }
    return failed ? 1 : 0;
  },
});

/** The NDJSON records of a streamed answer, as they arrive. */
async function* records(body: ReadableStream<Uint8Array>): AsyncGenerator<LogRecord> {
  const decoder = new TextDecoder();
  let partial = '';
  for await (const chunk of body) {
    const parts = (partial + decoder.decode(chunk, { stream: true })).split('\n');
    partial = parts.pop()!;
    for (const part of parts) if (part.trim() !== '') yield parse(part);
  }
  if (partial.trim() !== '') yield parse(partial);
}

function parse(text: string): LogRecord {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as LogRecord) : { error: 'the receiver sent a line that is not a log record' };
  } catch {
    return { error: 'the receiver sent a line that is not JSON' };
  }
}
