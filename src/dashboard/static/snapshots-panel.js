/* global URL, setTimeout */
// An app's database snapshots, like `norn snapshots`: the list (GET /api/apps/:app/snapshots), Take now (POST
// …/snapshots/take, answered once the dump is written) and a download of each file for export. The download is
// fetched with the token in a header and handed to the browser as a blob, so the token never appears in a URL.
import { getBlob, getJson, sendJson } from './api.js';
import { h, sagaHref, time } from './view.js';
import { guardedBy, keepAppOptions } from './panel-kit.js';

export function snapshotsPanel(page) {
  const app = h('select', { id: 'snapshots-app', name: 'app', required: true, 'aria-label': 'app' });
  const list = h('div', { id: 'snapshots-list' });
  const result = h('div', { id: 'snapshots-result', 'aria-live': 'polite' });

  const path = (suffix) => `/api/apps/${encodeURIComponent(app.value)}/snapshots${suffix}`;
  const show = (...nodes) => result.replaceChildren(...nodes);
  const guarded = guardedBy(page, show);


  const download = guarded(async (s) => {
    show(h('p', { class: 'muted' }, `downloading ${s.ts}…`));
    const { blob, sagaId } = await getBlob(path(`/${encodeURIComponent(s.ts)}/file`));
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: fileName(s) });
    a.click();
    // The browser has taken the blob once the click's download started; keep the URL a little for slow ones.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    show(h('p', { 'data-outcome': 'exported' }, `snapshot ${s.ts} downloaded (${sizeOf(blob.size)})`, sagaId ? [' · ', h('a', { href: sagaHref(sagaId) }, 'saga')] : ''));
  });

  const load = guarded(async () => {
    if (!app.value) return;
    const { snapshots } = await getJson(path(''));
    list.replaceChildren(
      snapshots.length
        ? h(
            'table',
            { class: 'deliveries snapshots' },
            h('thead', {}, h('tr', {}, ['Taken', 'Kind', 'Database', 'Size', ''].map((t) => h('th', {}, t)))),
            h(
              'tbody',
              {},
              snapshots.map((s) =>
                h(
                  'tr',
                  { 'data-ts': s.ts, 'data-kind': s.kind },
                  h('td', { 'data-label': 'Taken' }, time(s.createdAt), ` (${s.ts})`),
                  h('td', { 'data-label': 'Kind' }, s.kind),
                  h('td', { 'data-label': 'Database', class: 'wrap' }, s.database),
                  h('td', { 'data-label': 'Size' }, sizeOf(s.size)),
                  h('td', {}, h('button', { type: 'button', onclick: () => download(s).catch(page.fail) }, 'Download')),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, `${app.value} has no snapshot yet`),
    );
  });

  const take = guarded(async () => {
    if (!app.reportValidity()) return;
    show(h('p', { class: 'muted' }, `dumping ${app.value}'s database…`));
    const answer = await sendJson('POST', path('/take'));
    show(h('p', { 'data-outcome': 'taken', 'data-ts': answer.snapshot.ts }, `snapshot ${answer.snapshot.ts} taken (${sizeOf(answer.snapshot.size)}) · `, h('a', { href: sagaHref(answer.sagaId) }, 'saga')));
    await load();
  });

  const form = h(
    'div',
    { id: 'snapshots-form', class: 'card operate-form' },
    app,
    h('button', { type: 'button', id: 'snapshots-show', onclick: () => load().catch(page.fail) }, 'Show'),
    h('button', { type: 'button', id: 'snapshots-take', onclick: () => take().catch(page.fail) }, 'Take now'),
    list,
    result,
  );
  keepAppOptions(app, page.fail);
  app.addEventListener('change', () => load().catch(page.fail));
  return h('section', { 'aria-labelledby': 'snapshots-h' }, h('h2', { id: 'snapshots-h' }, 'Snapshots'), form);
}

/** The name the receiver stores the dump under, without any directory (the path is the receiver's, not the user's). */
function fileName(s) {
  const base = String(s.path ?? '').split('/').pop();
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(base ?? '') ? base : `${s.app}-${s.ts}.dump`;
}

function sizeOf(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
