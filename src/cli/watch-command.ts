// `norn watch [app]`: the live feed as lines, from now on, until interrupted. Resumes after a dropped connection
// from the last event seen.
import { apiCommand } from './api-command.js';
import type { SagaEvent } from './api-types.js';
import { envelopeLine } from './event-lines.js';
import { followLiveFeed, type LiveFeedDeps } from './live-feed.js';

export function watchCommandWith(feedDeps: LiveFeedDeps & { retryDelaysMs?: readonly number[] } = {}) {
  return apiCommand({
    usage: 'norn watch [app]',
    positionals: { min: 0, max: 1 },
    async run({ api, args, io, env }) {
      const [app] = args.positionals;
      // Start from the newest event, so a reconnect resumes exactly there even if nothing arrived yet.
      const { events } = await api.get<{ events: SagaEvent[] }>('/api/events', { app, limit: 1 });
      io.err.write(`watching ${app ?? 'all apps'} on ${api.baseUrl} (Ctrl-C to stop)\n`);
      await followLiveFeed(
        api,
        {
          app,
          since: events[0]?.seq ?? 0,
          retryDelaysMs: feedDeps.retryDelaysMs,
          onReconnecting: ({ since, reason }) => void io.err.write(`norn: live stream dropped (${reason}); resuming after event ${since}…\n`),
        },
        (envelope) => void io.out.write(`${envelopeLine(envelope, new Date(), env.TZ || undefined)}\n`),
        feedDeps,
      );
      return 0;
    },
  });
}

export const watchCommand = watchCommandWith();
