/* global setTimeout, clearTimeout, setInterval */
// The front page: apps with their last deploy, the live feed of deploys, and recent deliveries with verdicts.
import { getJson } from './api.js';
import { DeployBook, fromEnvelope, fromEvent, isEnded } from './deploys.js';
import { LiveSocket } from './live.js';
import { secretsPanel } from './secrets-panel.js';
import { operatePanel } from './operate-panel.js';
import { schedulesPanel } from './schedules-panel.js';
import { snapshotsPanel } from './snapshots-panel.js';
import { RollbackPanels } from './rollback-action.js';
import { ScaleRestartPanels } from './scale-restart-action.js';
import { badge, branchOf, fmtDuration, h, sagaHref, shortSha, stepChips, time } from './view.js';

export async function homePage(main, page) {
  const book = new DeployBook();
  const appsBox = h('div', { class: 'apps', id: 'apps' });
  const feedBox = h('div', { class: 'feed', id: 'feed' });
  const deliveriesBox = h('div', { id: 'deliveries' });
  main.replaceChildren(
    h('section', { 'aria-labelledby': 'apps-h' }, h('h2', { id: 'apps-h' }, 'Apps'), appsBox),
    h('section', { 'aria-labelledby': 'feed-h' }, h('h2', { id: 'feed-h' }, 'Deploys'), feedBox),
    h('section', { 'aria-labelledby': 'deliveries-h' }, h('h2', { id: 'deliveries-h' }, 'Recent deliveries'), deliveriesBox),
    secretsPanel(page),
    operatePanel(page),
    schedulesPanel(page),
    snapshotsPanel(page),
  );

  let apps = { apps: [], errors: [] };
  let instances = new Map();
  const rollbacks = new RollbackPanels();
  const scaleRestart = new ScaleRestartPanels(page);
  const renderApps = () => appsBox.replaceChildren(...appCards(apps, book, instances, rollbacks, scaleRestart));
  const renderFeed = () => {
    const list = book.feed();
    feedBox.replaceChildren(...(list.length ? list.map((d) => deployCard(d)) : [h('p', { class: 'empty' }, 'No deploys yet. A push to a tracked branch shows up here.')]));
  };
  const refreshLists = async () => {
    const [a, d] = await Promise.all([getJson('/api/apps'), getJson('/api/deliveries?limit=15')]);
    apps = a;
    // What runs per app, from the runtime; an app whose runtime cannot answer shows no instances.
    const lists = await Promise.all(
      a.apps.map(async (app) => {
        const name = encodeURIComponent(app.name);
        const [running, recent] = await Promise.all([
          getJson(`/api/apps/${name}/instances`).catch(() => []),
          getJson(`/api/apps/${name}/runs?limit=3`).catch(() => ({ runs: [] })),
        ]);
        return { running, runs: recent.runs };
      }),
    );
    instances = new Map(a.apps.map((app, i) => [app.name, lists[i]]));
    renderApps();
    deliveriesBox.replaceChildren(deliveriesTable(d.deliveries));
  };

  // A run first seen on /ws: the envelopes do not list its steps, its saga answer does (asked once per run).
  const asked = new Set();
  const learnSteps = (sagaId) => {
    // Runs have UUIDs (the API answers 404 for any other id without looking).
    if (asked.has(sagaId) || !/^[0-9a-f-]{36}$/.test(sagaId)) return;
    asked.add(sagaId);
    getJson(`/api/sagas/${encodeURIComponent(sagaId)}`)
      .then(({ saga }) => {
        if (!saga) return;
        book.learnSteps(saga);
        renderFeed();
      })
      .catch(() => asked.delete(sagaId));
  };

  // Events first: the newest seq they carry is where the live stream picks up, so nothing falls in between.
  const [{ events }, { deploys }] = await Promise.all([getJson('/api/events?limit=500'), getJson('/api/deploys?limit=20')]);
  for (const e of events) book.apply(fromEvent(e));
  for (const v of deploys) book.seed(v);
  // A run known from its events alone (older than the listing): ask for its steps like a new one.
  for (const d of book.feed()) if (!d.stepNames) learnSteps(d.sagaId);
  await refreshLists();
  renderFeed();

  // Deliveries are not in the event stream; reload the lists when a deploy starts or ends (debounced).
  let pending;
  const refreshSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => refreshLists().catch(page.fail), 300);
  };
  let wasLive = false;
  const live = new LiveSocket(
    { since: events.reduce((max, e) => Math.max(max, e.seq), 0) },
    {
      onEnvelope(env) {
        const d = book.apply(fromEnvelope(env));
        if (!d) return;
        if (!d.stepNames) learnSteps(d.sagaId);
        renderFeed();
        renderApps();
        if (env.type !== 'deploy.step' && env.type !== 'deploy.progress') refreshSoon();
      },
      onState(state, detail) {
        page.connection(state, detail);
        // Back after an outage: deliveries received meanwhile are not replayed by /ws, so reload the lists.
        if (state === 'live' && wasLive) refreshSoon();
        if (state === 'live') wasLive = true;
      },
      onAuthFailed: () => page.askToken('the saved token was refused'),
    },
  );
  live.start();
  // Running steps show their time so far; deliveries that matched nothing never reach /ws, so poll those slowly.
  setInterval(() => {
    if (book.feed().some((d) => d.status === 'running')) renderFeed();
  }, 1000);
  setInterval(refreshSoon, 30_000);
}

function appCards(apps, book, instances, rollbacks, scaleRestart) {
  const cards = apps.apps.map((a) => {
    const known = book.latestFor(a.name);
    const last = known ?? a.lastDeploy;
    const status = last?.status;
    return h(
      'article',
      { class: 'card app', 'data-app': a.name, 'data-state': status ?? 'none' },
      h('header', {}, h('h3', {}, a.name), status ? badge(status) : badge('none', 'never deployed')),
      h('p', { class: 'muted' }, a.repo ? `${a.repo.url} @ ${a.repo.branch ?? ''}` : 'no repository', a.processes?.length ? ` · ${a.processes.join(', ')}` : ''),
      last
        ? h(
            'p',
            {},
            h('a', { href: sagaHref(last.sagaId) }, `${shortSha(last.commitSha)} ${branchOf(last.ref)}`),
            ' · ',
            last.createdAt ? time(last.createdAt) : '',
            status === 'running' && last.steps ? ` · ${runningStep(last)}` : '',
            last.error ? h('span', { class: 'error' }, ` · ${last.error}`) : '',
          )
        : h('p', { class: 'muted' }, 'no deploys yet'),
      instanceList(instances.get(a.name)?.running ?? []),
      (instances.get(a.name)?.running ?? []).length ? h('p', {}, h('a', { href: `/apps/${encodeURIComponent(a.name)}/logs` }, 'logs')) : '',
      runList(instances.get(a.name)?.runs ?? []),
      rollbacks.for(a.name, a.lastDeploy !== null || known !== undefined),
      scaleRestart.for(a.name, (instances.get(a.name)?.running ?? []).length > 0),
    );
  });
  // One card per broken spec file, named by its app directory (the full path is in the tooltip).
  const byFile = new Map();
  for (const e of apps.errors) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  const errors = [...byFile].map(([file, list]) =>
    h(
      'article',
      { class: 'card app', 'data-state': 'invalid' },
      h('header', {}, h('h3', { title: file }, file.split('/').slice(-2).join('/')), badge('failed', 'invalid spec')),
      list.map((e) => h('p', { class: 'error' }, e.path ? `${e.path}: ${e.reason}` : e.reason)),
    ),
  );
  const all = [...cards, ...errors];
  return all.length ? all : [h('p', { class: 'empty' }, 'No apps: add an infraspec.yaml to the apps directory.')];
}

function instanceList(list) {
  if (!list.length) return '';
  return h(
    'ul',
    { class: 'instances' },
    list.map((i) =>
      h(
        'li',
        { 'data-instance': i.id, 'data-healthy': String(i.healthy) },
        [i.process, i.address ?? 'no port', i.state, i.healthy === null ? '' : i.healthy ? 'healthy' : 'unhealthy', i.commitSha ? shortSha(i.commitSha) : '']
          .filter(Boolean)
          .join(' · '),
      ),
    ),
  );
}

/** The latest one-off runs of scheduled and function processes. */
function runList(runs) {
  if (!runs.length) return '';
  return h(
    'ul',
    { class: 'instances runs' },
    runs.map((r) =>
      h(
        'li',
        { 'data-run': r.sagaId, 'data-healthy': String(r.status !== 'failed'), title: r.logTail || r.error || '' },
        h('a', { href: sagaHref(r.sagaId) }, `${r.process} (${r.trigger})`),
        ` · ${r.status}${r.exitCode === null ? '' : ` · exit ${r.exitCode}`} · `,
        time(r.startedAt),
      ),
    ),
  );
}

function runningStep(d) {
  const running = Object.entries(d.steps).find(([, s]) => s.status === 'running');
  return running ? `${running[0]} running` : 'running';
}

export function deployCard(d) {
  const lines = d.lines.slice(-5);
  return h(
    'article',
    { class: 'card deploy', 'data-saga': d.sagaId, 'data-state': d.status },
    h(
      'header',
      {},
      h('h3', {}, h('a', { href: sagaHref(d.sagaId) }, d.app)),
      badge(d.status),
      h('span', { class: 'muted' }, [shortSha(d.commitSha), branchOf(d.ref), d.trigger, d.kind && d.kind !== 'deploy' ? d.kind : ''].filter(Boolean).join(' · ')),
      d.createdAt ? h('span', { class: 'muted right' }, time(d.createdAt)) : '',
    ),
    stepChips(d),
    isEnded(d.status) && (d.error || d.imageTag || d.durationMs)
      ? h('p', { class: d.error ? 'error' : 'muted' }, d.error ?? [d.imageTag && `image ${d.imageTag}`, d.durationMs && `took ${fmtDuration(d.durationMs)}`].filter(Boolean).join(' · '))
      : '',
    lines.length ? h('ol', { class: 'log' }, lines.map((l) => h('li', { 'data-seq': l.seq, 'data-kind': l.kind }, l.text))) : '',
  );
}

function deliveriesTable(deliveries) {
  if (!deliveries.length) return h('p', { class: 'empty' }, 'No deliveries received yet.');
  return h(
    'table',
    { class: 'deliveries' },
    h('thead', {}, h('tr', {}, ['When', 'Forge', 'Repository', 'Commit', 'Verdict', 'Why'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      deliveries.map((d) =>
        h(
          'tr',
          { 'data-delivery': d.id, 'data-verdict': d.verdict },
          h('td', { 'data-label': 'When' }, time(d.receivedAt)),
          h('td', { 'data-label': 'Forge' }, d.forge, d.event ? ` ${d.event}` : ''),
          h('td', { 'data-label': 'Repository', class: 'wrap' }, d.repo ?? '', d.ref ? ` @ ${branchOf(d.ref)}` : ''),
          h('td', { 'data-label': 'Commit', class: 'mono' }, shortSha(d.commitSha)),
          h('td', { 'data-label': 'Verdict' }, badge(verdictState(d.verdict), d.verdict)),
          h('td', { 'data-label': 'Why', class: 'wrap' }, d.reason),
        ),
      ),
    ),
  );
}

function verdictState(verdict) {
  if (verdict === 'queued') return 'succeeded';
  if (verdict === 'rejected') return 'failed';
  return 'neutral';
}
