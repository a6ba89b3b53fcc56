/* global window */
// Operator actions on an app, with the saved token: run a preflight of a ref (POST /api/apps/:app/preflight), show
// its canaries (GET /api/apps/:app/canary), and promote or fail them (POST .../canary/promote | /fail, after a
// confirmation, since both change what runs). Each answer links its saga.
import { getJson, sendJson } from './api.js';
import { h, sagaHref } from './view.js';
import { guardedBy, keepAppOptions } from './panel-kit.js';

export function operatePanel(page) {
  const app = h('select', { id: 'operate-app', name: 'app', required: true, 'aria-label': 'app' });
  const ref = h('input', { id: 'operate-ref', name: 'ref', placeholder: 'ref (default: tracked branch)', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'ref' });
  const result = h('div', { id: 'operate-result', 'aria-live': 'polite' });

  const path = (suffix) => `/api/apps/${encodeURIComponent(app.value)}${suffix}`;
  const show = (...nodes) => result.replaceChildren(...nodes);
  const guarded = (fn) => {
    const run = guardedBy(page, show)(fn);
    return async () => (app.reportValidity() ? run() : undefined);
  };

  const preflight = guarded(async () => {
    const answer = await sendJson('POST', path('/preflight'), ref.value.trim() ? { ref: ref.value.trim() } : {});
    const run = answer.deploys[0];
    show(h('p', { 'data-outcome': 'preflight-queued' }, `preflight of ${run.app} queued for ${run.ref} @ ${run.commitSha.slice(0, 12)} · `, h('a', { href: sagaHref(run.sagaId) }, 'saga')));
  });

  const canaries = guarded(async () => {
    const state = await getJson(path('/canary'));
    const d = state.deployment;
    if (!d) return show(h('p', {}, `${state.app} has no deployment yet`));
    const groups = d.groups.filter((g) => g.desiredCanaries > 0);
    const lines = groups.map((g) => `${g.group}: ${g.placedCanaries}/${g.desiredCanaries} canaries, ${g.healthy} healthy, ${g.unhealthy} unhealthy, ${g.promoted ? 'promoted' : 'not promoted'}`);
    const waiting = d.waitingForPromotion
      ? `waiting for promotion${state.deploy?.promoteAt ? `; promoted by itself at ${state.deploy.promoteAt}` : ''}`
      : groups.length ? 'nothing waits for a decision' : 'no canaries in this deployment';
    show(h('p', { 'data-waiting': String(d.waitingForPromotion) }, `deployment ${d.id.slice(0, 8)} (job version ${d.jobVersion}) ${d.status}: ${waiting}`), h('pre', {}, lines.join('\n')));
  });

  const decide = (verb) =>
    guarded(async () => {
      const question = verb === 'promote' ? `Promote ${app.value}'s canaries? The new version then replaces every instance.` : `Fail ${app.value}'s canaries? They stop and the deploy fails.`;
      if (!window.confirm(question)) return;
      const answer = await sendJson('POST', path(`/canary/${verb}`), {});
      show(h('p', { 'data-outcome': verb }, `${answer.message} · `, h('a', { href: sagaHref(answer.sagaId) }, 'saga')));
    });

  const form = h(
    'form',
    { id: 'operate-form', class: 'card operate-form', onsubmit: (ev) => (ev.preventDefault(), preflight().catch(page.fail)) },
    app,
    ref,
    h('button', { type: 'submit', id: 'operate-preflight' }, 'Preflight'),
    h('button', { type: 'button', id: 'operate-canary', onclick: () => canaries().catch(page.fail) }, 'Canaries'),
    h('button', { type: 'button', id: 'operate-promote', onclick: () => decide('promote')().catch(page.fail) }, 'Promote'),
    h('button', { type: 'button', id: 'operate-fail', onclick: () => decide('fail')().catch(page.fail) }, 'Fail canaries'),
    result,
  );
  keepAppOptions(app, page.fail);
  return h('section', { 'aria-labelledby': 'operate-h' }, h('h2', { id: 'operate-h' }, 'Operate'), form);
}
