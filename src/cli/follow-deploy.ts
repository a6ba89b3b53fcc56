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
  /** How its end reads (default: a deploy's); its steps are the ones the receiver lists for the saga. */
  readonly kind?: RunKind;
}

export async function followDeploy(
  api: ApiClient,
  io: CliIo,
  opts: FollowOptions,
  feedDeps: LiveFeedDeps & { retryDelaysMs?: readonly number[] } = {},
): Promise<DeployProgress> {
  const { since, steps } = await sagaStart(api, opts.sagaId);
  const progress = new DeployProgress(opts.sagaId, opts.kind, steps);
  const mode: ViewMode = opts.json ? 'json' : io.out.isTTY ? 'tty' : 'plain';
  const view = deployView(mode, { app: opts.app, progress, out: io.out, err: io.err });
  try {
    await followLiveFeed(
      api,
      {
        app: opts.app,
        since,
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
 * The seq just before the saga's deploy.queued event (following from there replays the whole saga, so nothing is lost
 * however far the deploy got before the socket opened), and the steps the receiver says the run has.
 */
async function sagaStart(api: ApiClient, sagaId: string): Promise<{ since: number; steps?: readonly string[] }> {
  const { saga, events } = await api.get<SagaAnswer>(`/api/sagas/${sagaId}`);
  const first = events.find((e) => e.action === 'deploy.queued') ?? events[0];
  const listed = saga?.steps;
  const steps = Array.isArray(listed) && listed.every((s) => typeof s === 'string') ? listed : undefined;
  return { since: first ? first.seq - 1 : 0, steps };
}
