/* global document, setTimeout, clearTimeout, setInterval */
// /sagas/<id>: one deploy (the target_url of its commit statuses) with its full event log, kept current from /ws.
import { ApiError, getJson } from './api.js';
import { DeployBook, fromEnvelope, fromEvent } from './deploys.js';
import { LiveSocket } from './live.js';
import { badge, branchOf, fmtClock, fmtDuration, h, stepChips, time } from './view.js';

const ICONS = { start: '▶', complete: '✓', failed: '✗', superseded: '✗', interrupted: '✗' };
const SHOWN_INLINE = ['step', 'index', 'total', 'durationMs'];

export async function sagaPage(main, page, sagaId) {
  const path = `/api/sagas/${encodeURIComponent(sagaId)}`;
  let data;
  try {
    data = await getJson(path);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    main.replaceChildren(back(), h('p', { class: 'empty' }, `No saga ${sagaId} here.`));
    return;
  }
  const book = new DeployBook();
  const summaryBox = h('div', {});
  const log = new EventLog();
  main.replaceChildren(back(), summaryBox, log.section);
  const render = () => {
    summaryBox.replaceChildren(summary(data.saga, book.get(sagaId), sagaId));
    log.show(data.events);
  };
  const fold = () => {
    for (const e of data.events) book.apply(fromEvent(e));
    if (data.saga) book.seed(data.saga);
  };
  fold();
  render();
  document.title = `${data.saga?.app ?? 'saga'} ${sagaId.slice(0, 8)} · Norn`;

  // An envelope says something happened; the API has the full event (timestamp, metadata). One request at a time,
  // so a deploy streaming build output costs a steady trickle of requests, not one per line.
  let timer;
  let inFlight = false;
  let dirty = false;
  const reload = async () => {
    if (inFlight) return void (dirty = true);
    inFlight = true;
    try {
      do {
        dirty = false;
        data = await getJson(path);
        fold();
        render();
      } while (dirty);
    } catch (err) {
      page.fail(err);
    } finally {
      inFlight = false;
    }
  };
  const app = data.saga?.app ?? data.events[0]?.app;
  new LiveSocket(
    { app, since: data.events.reduce((max, e) => Math.max(max, e.seq), 0) },
    {
      onEnvelope(env) {
        if (env.payload?.sagaId !== sagaId) return;
        book.apply(fromEnvelope(env));
        render();
        clearTimeout(timer);
        timer = setTimeout(reload, 150);
      },
      onState: (state, detail) => page.connection(state, detail),
      onAuthFailed: () => page.askToken('the saved token was refused'),
    },
  ).start();
  setInterval(() => {
    if (book.get(sagaId)?.status === 'running') render();
  }, 1000);
}

function back() {
  return h('p', { class: 'back' }, h('a', { href: '/' }, '← all apps'));
}

function summary(saga, d, sagaId) {
  const status = d?.status ?? saga?.status ?? 'unknown';
  const rows = [
    ['Saga', sagaId],
    ['Commit', saga?.commitSha ?? d?.commitSha],
    ['Ref', branchOf(saga?.ref ?? d?.ref)],
    ['Trigger', saga ? `${saga.trigger}${saga.kind && saga.kind !== 'deploy' ? ` (${saga.kind})` : ''}` : d?.trigger],
    ['Queued', saga?.createdAt ? time(saga.createdAt) : ''],
    ['Started', saga?.startedAt ? time(saga.startedAt) : ''],
    ['Finished', saga?.finishedAt ? time(saga.finishedAt) : ''],
    ['Took', saga?.startedAt && saga?.finishedAt ? fmtDuration(Date.parse(saga.finishedAt) - Date.parse(saga.startedAt)) : ''],
    ['Image', saga?.imageTag ?? d?.imageTag],
  ].filter(([, v]) => v);
  const error = saga?.error ?? d?.error;
  return h(
    'section',
    { class: 'card saga', 'data-saga': sagaId, 'data-state': status },
    h('header', {}, h('h2', { class: 'title' }, saga?.app ?? d?.app ?? 'saga'), badge(status)),
    d ? stepChips(d) : '',
    error ? h('p', { class: 'error' }, error) : '',
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', { class: k === 'Commit' || k === 'Saga' ? 'mono' : '' }, v)])),
  );
}

/** The event log, grown in place (rows keyed by seq), so an opened "details" stays open while events arrive. */
class EventLog {
  constructor() {
    this.heading = h('h2', { id: 'log-h' }, 'Event log');
    this.list = h('ol', { class: 'events', id: 'events' });
    this.section = h('section', { 'aria-labelledby': 'log-h' }, this.heading, this.list);
    this.rows = new Map();
    this.lastSeq = 0;
  }

  show(events) {
    for (const e of events) {
      if (this.rows.has(e.seq)) continue;
      const row = eventRow(e);
      this.rows.set(e.seq, row);
      // Almost always the newest; an event committed late by a concurrent writer goes to its place by seq.
      const next = e.seq > this.lastSeq ? undefined : [...this.list.children].find((li) => Number(li.dataset.seq) > e.seq);
      this.list.insertBefore(row, next ?? null);
      this.lastSeq = Math.max(this.lastSeq, e.seq);
    }
    this.heading.textContent = `Event log (${this.rows.size})`;
  }
}

function eventRow(e) {
  const m = e.metadata ?? {};
  const suffix = e.action.slice(e.action.lastIndexOf('.') + 1);
  const extra = Object.fromEntries(Object.entries(m).filter(([k]) => !SHOWN_INLINE.includes(k)));
  return h(
    'li',
    { 'data-seq': e.seq, 'data-action': e.action, class: `ev ev-${suffix}` },
    h('span', { class: 'ev-time mono' }, time(e.timestamp, fmtClock)),
    h('span', { class: 'ev-icon', 'aria-hidden': 'true' }, ICONS[suffix] ?? '·'),
    h('span', { class: 'ev-action mono' }, e.action, m.step ? ` ${m.step}` : '', typeof m.durationMs === 'number' ? ` · ${fmtDuration(m.durationMs)}` : ''),
    h('span', { class: 'ev-message' }, e.message),
    Object.keys(extra).length ? h('details', { class: 'ev-meta' }, h('summary', {}, 'details'), h('pre', {}, JSON.stringify(extra, null, 2))) : '',
  );
}
