// One line per event for `norn saga` and `norn watch`: `HH:MM:SS <icon> <message>`, where the icon is ▶ for a
// start, ✓ for a completion, ✗ for a failure (or an interrupted deploy) and · for everything else.
import type { Envelope, SagaEvent } from './api-types.js';
import { formatDuration } from './deploy-render.js';

/** HH:MM:SS in `timeZone` (the operator's local zone when undefined). */
export function clockTime(at: string | Date, timeZone?: string): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone }).format(date);
}

export function actionIcon(action: string): string {
  if (action.endsWith('.start')) return '▶';
  if (action.endsWith('.complete')) return '✓';
  if (action.endsWith('.failed') || action === 'deploy.interrupted') return '✗';
  return '·';
}

export function sagaEventLine(e: SagaEvent, timeZone?: string): string {
  return prefixed(`${clockTime(e.timestamp, timeZone)} ${actionIcon(e.action)}`, e.message);
}

/**
 * `head text`, once per line of `text`: a build or test message can hold several lines of Docker output, and a
 * line without the time, app and saga in front of it cannot be told apart (or grepped) in an interleaved feed.
 */
function prefixed(head: string, text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  return lines.map((line) => `${head} ${line}`).join('\n');
}

const STEP_ICONS: Record<string, string> = { running: '▶', complete: '✓', failed: '✗', skipped: '·' };

/** A live envelope as a line; envelopes carry no timestamp, so `at` is when it arrived. */
export function envelopeLine(env: Envelope, at: Date, timeZone?: string): string {
  const p = env.payload;
  const saga = String(p.sagaId ?? '').slice(0, 8);
  const prefix = `${clockTime(at, timeZone)} ${env.appId} ${saga}`;
  switch (env.type) {
    case 'deploy.queued':
      return `${prefix} · queued ${String(p.ref ?? '')} @ ${String(p.commitSha ?? '').slice(0, 12)} (${String(p.trigger ?? '')})`;
    case 'deploy.step': {
      const took = typeof p.durationMs === 'number' && p.status !== 'running' ? ` (${formatDuration(p.durationMs)})` : '';
      return prefixed(`${prefix} ${STEP_ICONS[String(p.status)] ?? '·'}`, `${String(p.message ?? p.step)}${took}`);
    }
    case 'deploy.progress':
      return prefixed(`${prefix} ${actionIcon(String(p.action ?? ''))}`, String(p.message ?? ''));
    case 'deploy.completed':
      return `${prefix} ✓ deployed${typeof p.imageTag === 'string' ? ` ${p.imageTag}` : ''}${typeof p.notRouted === 'string' ? ` (live, not routed: ${p.notRouted})` : ''}`;
    case 'deploy.failed':
      return prefixed(`${prefix} ✗`, `${p.reason === 'failed' || p.reason === undefined ? 'failed' : String(p.reason)}: ${String(p.error ?? '')}`);
  }
}
