// What a dockerode error says: the engine's HTTP status and its own message.
import { errorMessage } from '../../errors.js';

/** The HTTP status of a dockerode error; 0 when there was no HTTP answer (connection refused, aborted). */
export function statusOf(err: unknown): number {
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : 0;
}

/** dockerode puts the daemon's JSON answer in `json`; its `message` says more than "(HTTP code 404) no such image". */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } }).json;
  return typeof json?.message === 'string' ? json.message : errorMessage(err);
}
