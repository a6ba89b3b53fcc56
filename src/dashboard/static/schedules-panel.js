/* global TextEncoder, btoa */
// Scheduled and function processes of an app, like `norn cron` and `norn invoke`: the schedules with whether each
// is paused (GET /api/apps/:app/schedules), Run now (followed to its end), Pause and Resume, the history of a
// process (GET …/processes/:process/runs), and Invoke of a function with an optional payload, sent base64 as the
// API wants it. Every answer links its saga.
import { getJson, sendJson } from './api.js';
import { followSaga } from './saga-follow.js';
import { badge, fmtDuration, h, sagaHref, time } from './view.js';
import { guardedBy, keepAppOptions } from './panel-kit.js';

export function schedulesPanel(page) {
  const app = h('select', { id: 'schedules-app', name: 'app', required: true, 'aria-label': 'app' });
  const list = h('div', { id: 'schedules-list' });
  const result = h('div', { id: 'schedules-result', 'aria-live': 'polite' });
  const history = h('div', { id: 'schedules-history' });

  const path = (suffix) => `/api/apps/${encodeURIComponent(app.value)}${suffix}`;
  const processPath = (process, verb) => path(`/processes/${encodeURIComponent(process)}/${verb}`);
  const show = (...nodes) => result.replaceChildren(...nodes);
  const guarded = guardedBy(page, show);


  const showHistory = guarded(async (process) => {
    const { runs } = await getJson(`${processPath(process, 'runs')}?limit=20`);
    history.replaceChildren(
      h('h3', {}, `History of ${process}`),
      runs.length
        ? h(
            'ul',
            { class: 'instances runs', 'data-history': process },
            runs.map((r) =>
              h(
                'li',
                { 'data-run': r.sagaId, 'data-state': r.status, 'data-healthy': String(r.status !== 'failed'), title: r.logTail || r.error || '' },
                h('a', { href: sagaHref(r.sagaId) }, `${r.process} (${r.trigger})`),
                ` · ${r.status}${r.exitCode === null ? '' : ` · exit ${r.exitCode}`}${r.durationMs === null ? '' : ` · ${fmtDuration(r.durationMs)}`} · `,
                time(r.startedAt),
              ),
            ),
          )
        : h('p', { class: 'empty', 'data-history': process }, `${process} has not run yet`),
    );
  });

  const runNow = guarded(async (process) => {
    const started = await sendJson('POST', processPath(process, 'run'));
    const state = badge('running');
    const message = h('span', { class: 'muted' });
    const outcome = h('p', { 'data-outcome': 'running', 'data-saga': started.sagaId }, `${process} started · `, h('a', { href: sagaHref(started.sagaId) }, started.sagaId), ' ', state, ' ', message);
    show(outcome);
    const ended = await followSaga(started.sagaId, (now, text) => {
      outcome.setAttribute('data-outcome', now);
      state.setAttribute('data-state', now);
      state.textContent = now;
      message.textContent = text;
    });
    if (ended) await showHistory(process);
  });

  const setPaused = (verb) =>
    guarded(async (process) => {
      const answer = await sendJson('POST', processPath(process, verb));
      const what = answer.paused ? 'paused' : 'resumed';
      show(h('p', { 'data-outcome': verb }, `${process} ${answer.changed ? what : `was already ${answer.paused ? 'paused' : 'active'}`} · `, h('a', { href: sagaHref(answer.sagaId) }, 'saga')));
      await load();
    });
  const pause = setPaused('pause');
  const resume = setPaused('resume');

  const invoke = guarded(async (process, payload) => {
    show(h('p', { class: 'muted' }, `${process} running…`));
    const body = payload.value === '' ? {} : { payload: base64(payload.value) };
    const run = await sendJson('POST', processPath(process, 'invoke'), body);
    show(
      h('p', { 'data-outcome': run.status, 'data-saga': run.sagaId }, `${process} ${run.status}${run.exitCode === null ? '' : ` · exit ${run.exitCode}`} · `, h('a', { href: sagaHref(run.sagaId) }, run.sagaId)),
      run.error ? h('p', { class: 'error' }, run.error) : '',
      run.logTail ? h('pre', { class: 'log-tail' }, run.logTail) : '',
    );
    await showHistory(process);
  });

  const load = guarded(async () => {
    if (!app.value) return;
    const [{ schedules }, detail] = await Promise.all([getJson(path('/schedules')), getJson(path(''))]);
    const functions = Object.entries(detail.spec.processes ?? {}).filter(([, p]) => p.function !== undefined).map(([name]) => name).sort();
    const rows = schedules.map((s) =>
      h(
        'tr',
        { 'data-process': s.process, 'data-paused': String(s.paused !== null) },
        h('td', { 'data-label': 'Process' }, s.process),
        h('td', { 'data-label': 'Schedule', class: 'mono' }, s.cron, s.timeZone ? ` (${s.timeZone})` : ''),
        h('td', { 'data-label': 'State' }, s.paused ? [badge('neutral', 'paused'), ' since ', time(s.paused.pausedAt)] : badge('succeeded', 'active')),
        h(
          'td',
          { 'data-label': 'Actions' },
          h('button', { type: 'button', onclick: () => runNow(s.process).catch(page.fail) }, 'Run now'),
          ' ',
          s.paused ? h('button', { type: 'button', onclick: () => resume(s.process).catch(page.fail) }, 'Resume') : h('button', { type: 'button', onclick: () => pause(s.process).catch(page.fail) }, 'Pause'),
          ' ',
          h('button', { type: 'button', onclick: () => showHistory(s.process).catch(page.fail) }, 'History'),
        ),
      ),
    );
    const invokers = functions.map((name) => {
      const payload = h('textarea', { name: 'payload', rows: '2', placeholder: 'payload (optional, sent as the file $NORN_PAYLOAD_FILE)', 'aria-label': `payload for ${name}` });
      return h(
        'form',
        { class: 'function-invoke', 'data-process': name, onsubmit: (ev) => (ev.preventDefault(), invoke(name, payload).catch(page.fail)) },
        h('strong', {}, name),
        payload,
        h('button', { type: 'submit' }, 'Invoke'),
        h('button', { type: 'button', onclick: () => showHistory(name).catch(page.fail) }, 'History'),
      );
    });
    list.replaceChildren(
      schedules.length
        ? h('table', { class: 'deliveries schedules' }, h('thead', {}, h('tr', {}, ['Process', 'Schedule', 'State', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
        : h('p', { class: 'empty' }, `${app.value} has no scheduled process`),
      invokers.length ? h('h3', {}, 'Functions') : '',
      ...invokers,
    );
  });

  // A div, not a form: each function's Invoke is a form of its own, and forms do not nest.
  const form = h(
    'div',
    { id: 'schedules-form', class: 'card operate-form' },
    app,
    h('button', { type: 'button', id: 'schedules-show', onclick: () => load().catch(page.fail) }, 'Show'),
    list,
    result,
    history,
  );
  keepAppOptions(app, page.fail);
  app.addEventListener('change', () => load().catch(page.fail));
  return h('section', { 'aria-labelledby': 'schedules-h' }, h('h2', { id: 'schedules-h' }, 'Schedules and functions'), form);
}

/** The text's UTF-8 bytes in base64 (btoa alone takes Latin-1 only). */
function base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
