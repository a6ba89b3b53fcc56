// `norn saga <id>` (one saga's log) and `norn saga --app <app> [--limit N]` (an app's recent events, a header
// line each time the saga changes). Each event prints as `HH:MM:SS <icon> <message>`.
import { apiCommand, intOption, UsageError } from './api-command.js';
import type { SagaAnswer, SagaEvent } from './api-types.js';
import { sagaEventLine } from './event-lines.js';

export const sagaCommand = apiCommand({
  usage: 'norn saga <id> | norn saga --app <app> [--limit N]',
  options: { app: { type: 'string' }, limit: { type: 'string' } },
  positionals: { min: 0, max: 1 },
  async run({ api, args, io, env }) {
    const [id] = args.positionals;
    const app = args.values.app as string | undefined;
    if ((id === undefined) === (app === undefined)) throw new UsageError('give either a saga id or --app <app>');
    const timeZone = env.TZ || undefined;
    if (id !== undefined) {
      const { saga, events } = await api.get<SagaAnswer>(`/api/sagas/${encodeURIComponent(id)}`);
      if (saga) io.out.write(`saga ${saga.sagaId}  ${saga.app} ${saga.ref} @ ${saga.commitSha.slice(0, 12)}  ${saga.status}\n`);
      for (const e of events) io.out.write(`${sagaEventLine(e, timeZone)}\n`);
      return 0;
    }
    const limit = intOption(args.values.limit, 'limit');
    const { events } = await api.get<{ events: SagaEvent[] }>(`/api/apps/${encodeURIComponent(app!)}/events`, { limit });
    let current: string | undefined;
    for (const e of events) {
      if (e.sagaId !== current) io.out.write(`── saga ${e.sagaId}\n`);
      current = e.sagaId;
      io.out.write(`${sagaEventLine(e, timeZone)}\n`);
    }
    if (events.length === 0) io.out.write(`no events for ${app}\n`);
    return 0;
  },
});
