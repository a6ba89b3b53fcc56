// Follows one queued deploy's saga on /ws until it ends, showing it as `norn deploy` does (frames on a terminal,
// lines in a pipe, envelopes with --json). Resolves with whether it succeeded. `norn deploy`, `norn preflight`
// and `norn rollback` all end this way.
import type { CliIo } from './api-command.js';
import type { ApiClient } from './api-client.js';
import type { SagaAnswer } from './api-types.js';
import { DeployProgress, type RunKind } from './deploy-progress.js';
import { deployView, type ViewMode } from './deploy-view.js';
import { followLiveFeed, type LiveFeedDeps } from './live-feed.js';

export interface FollowOptions {
  readonly app: string;
  readonly sagaId: string;
  readonly json: boolean;
  /** Which steps it runs and how its end reads (default: a deploy's nine). */
  readonly kind?: RunKind;
}

export async function followDeploy(
  api: ApiClient,
  io: CliIo,
  opts: FollowOptions,
  feedDeps: LiveFeedDeps & { retryDelaysMs?: readonly number[] } = {},
): Promise<DeployProgress> {
  const progress = new DeployProgress(opts.sagaId, opts.kind);
  const mode: ViewMode = opts.json ? 'json' : io.out.isTTY ? 'tty' : 'plain';
  const view = deployView(mode, { app: opts.app, progress, out: io.out, err: io.err });
  try {
    await followLiveFeed(
      api,
      {
        app: opts.app,
        since: await seqBefore(api, opts.sagaId),
        retryDelaysMs: feedDeps.retryDelaysMs,
        onReconnecting: ({ since, reason }) => view.notice(`live stream dropped (${reason}); resuming after event ${since}…`),
      },
      (env) => {
        if (!progress.apply(env, Date.now())) return false;
        view.show(env);
        return progress.isFinished;
      },
      feedDeps,
    );
  } finally {
    view.close();
  }
  return progress;
}

/**
 * The seq just before the saga's deploy.queued event: following from there replays the whole saga, so nothing
 * is lost however far the deploy got before the socket opened.
 */
async function seqBefore(api: ApiClient, sagaId: string): Promise<number> {
  const { events } = await api.get<SagaAnswer>(`/api/sagas/${sagaId}`);
  const first = events.find((e) => e.action === 'deploy.queued') ?? events[0];
  return first ? first.seq - 1 : 0;
}
