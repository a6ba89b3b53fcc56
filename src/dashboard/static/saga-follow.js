/* global setTimeout */
// Follows an operation or run saga the dashboard started (scale, restart, run now) until it ends, by polling
// GET /api/sagas/:id: these sagas are not deploys, so the deploy feed does not draw them. Each answer hands the
// caller the state (running, succeeded, failed) and the saga's latest message.
import { getJson } from './api.js';

const ENDS = { 'operation.complete': 'succeeded', 'run.complete': 'succeeded', 'operation.failed': 'failed', 'run.failed': 'failed' };
const POLL_MS = 1000;

/** Calls `onUpdate(state, message)` after each poll until the saga ended; a failed poll is reported and retried. */
export async function followSaga(sagaId, onUpdate) {
  for (;;) {
    let state = 'running';
    try {
      const { events } = await getJson(`/api/sagas/${encodeURIComponent(sagaId)}`);
      const last = events[events.length - 1];
      const ended = events.find((e) => ENDS[e.action]);
      state = ended ? ENDS[ended.action] : 'running';
      onUpdate(state, (ended ?? last)?.message ?? '');
    } catch (err) {
      onUpdate('running', `could not read the saga (${err instanceof Error ? err.message : String(err)}); trying again`);
    }
    if (state !== 'running') return state;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
