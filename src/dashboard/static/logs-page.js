/* global fetch, TextDecoder, AbortController, window */
// /apps/<name>/logs: the app's instances' output, followed live (GET /api/apps/:app/logs?follow=true, NDJSON).
// Lines reach the page as text nodes only, so an app's output cannot inject markup; the newest KEEP lines stay.
import { AuthNeededError, savedToken } from './api.js';
import { h } from './view.js';

const KEEP = 2000;

export async function logsPage(main, page, app) {
  const pre = h('pre', { class: 'logs', 'aria-live': 'off' });
  const state = h('span', { class: 'muted' }, 'connecting…');
  main.replaceChildren(
    h('section', { class: 'card' }, h('header', {}, h('h2', {}, `${app} · logs`), state), h('p', { class: 'muted' }, h('a', { href: '/' }, '← apps'), ' · the last 200 lines of each instance, then what they write'), pre),
  );
  const abort = new AbortController();
  window.addEventListener('pagehide', () => abort.abort());
  const token = savedToken();
  const res = await fetch(`/api/apps/${encodeURIComponent(app)}/logs?follow=true&tail=200`, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: abort.signal, cache: 'no-store' });
  if (res.status === 401) throw new AuthNeededError(token ? 'the saved token was refused' : 'this service needs an API token');
  if (!res.ok || !res.body) {
    const body = await res.json().catch(() => ({}));
    throw new Error(typeof body.error === 'string' ? body.error : `HTTP ${res.status}`);
  }
  page.connection('live');
  state.textContent = 'following';
  const decoder = new TextDecoder();
  let partial = '';
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true }));
    if (done) break;
    const parts = (partial + decoder.decode(value, { stream: true })).split('\n');
    partial = parts.pop();
    for (const part of parts) if (part.trim()) pre.append(line(part));
    while (pre.childElementCount > KEEP) pre.firstElementChild.remove();
    pre.scrollTop = pre.scrollHeight;
  }
  state.textContent = 'ended';
  page.connection('offline', 'the log stream ended');
}

function line(text) {
  let r;
  try {
    r = JSON.parse(text);
  } catch {
    return h('div', { class: 'log-error' }, 'a line that is not JSON');
  }
  if (typeof r.error === 'string') return h('div', { class: 'log-error' }, `the log stream stopped: ${r.error}`);
  return h('div', { class: r.stream === 'stderr' ? 'log-line stderr' : 'log-line' }, h('span', { class: 'log-instance' }, `${r.process}/${r.instance} `), String(r.text ?? ''));
}
