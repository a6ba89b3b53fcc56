/* global document, Node */
// DOM building without innerHTML: every piece of data reaches the page as a text node or an attribute value.

/** h('a', { href, class }, 'text', child): an element; strings become text nodes, null/false are dropped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false || child === '') continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function sagaHref(sagaId) {
  return `/sagas/${encodeURIComponent(sagaId)}`;
}

export function shortSha(sha) {
  return typeof sha === 'string' ? sha.slice(0, 7) : '';
}

export function branchOf(ref) {
  return typeof ref === 'string' ? ref.replace(/^refs\/(heads|tags)\//, '') : '';
}

export function fmtDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

const pad = (n) => String(n).padStart(2, '0');

/** HH:MM:SS in local time. */
export function fmtClock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The clock for today, the date and time otherwise. */
export function fmtWhen(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return fmtClock(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function time(iso, format = fmtWhen) {
  return h('time', { datetime: iso, title: iso }, format(iso));
}

/** A status word as a coloured badge; the state is also in data-state for styling and tests. */
export function badge(state, text = state) {
  return h('span', { class: 'badge', 'data-state': state }, text);
}

/**
 * The run's steps as chips: state, and the duration once known (or the time so far while running). The steps are the
 * ones the API lists for the run (`steps`, kept as `stepNames`); the dashboard is served by the receiver it asks, so
 * every answer has them. A run first seen on /ws is drawn with the steps it reported until the next listing names all.
 */
export function stepChips(deploy, now = Date.now()) {
  const names = Array.isArray(deploy.stepNames) ? deploy.stepNames : Object.keys(deploy.steps);
  return h(
    'ol',
    { class: 'steps', 'aria-label': 'steps' },
    names.map((name, i) => {
      const s = deploy.steps[name];
      const ended = deploy.status !== 'queued' && deploy.status !== 'running';
      const state = s ? s.status : ended ? 'notrun' : 'pending';
      const ms = s?.durationMs ?? (s?.status === 'running' && s.startedAt ? now - s.startedAt : undefined);
      return h(
        'li',
        { class: 'chip', 'data-step': name, 'data-state': state, title: `${i + 1}/${names.length} ${name}: ${state}` },
        h('span', { class: 'chip-name' }, name),
        h('span', { class: 'chip-time' }, state === 'skipped' ? 'skipped' : fmtDuration(ms)),
      );
    }),
  );
}
