// The app card's "Scale…" and "Restart…" actions, like `norn scale` and `norn restart`: both change what runs, so
// the operator picks the process (and the count), types the app's name to confirm, and the page then shows the
// operation's saga and follows it to its outcome (the API answers 202 with the saga id and works on after).
// App cards are redrawn on every live event, so each app's panel is one element kept here and moved into the new
// card: what the operator typed, and the outcome being followed, survive the redraw.
import { AuthNeededError, getJson, sendJson } from './api.js';
import { followSaga } from './saga-follow.js';
import { badge, h, sagaHref } from './view.js';

export class ScaleRestartPanels {
  constructor(page) {
    this.page = page;
    this.panels = new Map();
  }

  /** The actions for `app`; `runs`: it has instances, so there is something to scale or restart. */
  for(app, runs) {
    if (!runs) return '';
    let panel = this.panels.get(app);
    if (!panel) {
      panel = new ScaleRestartPanel(app, this.page);
      this.panels.set(app, panel);
    }
    return panel.el;
  }
}

/** A process runs as instances unless it has a schedule or is a function (apps/infraspec-schema.ts processKind). */
function serviceProcesses(spec) {
  return Object.entries(spec.processes ?? {})
    .filter(([, p]) => p.schedule === undefined && p.function === undefined)
    .map(([name]) => name);
}

class ScaleRestartPanel {
  constructor(app, page) {
    this.app = app;
    this.page = page;
    this.el = h('div', { class: 'action scale-restart', 'data-action': 'scale-restart' });
    this.closed();
  }

  path(verb) {
    return `/api/apps/${encodeURIComponent(this.app)}/${verb}`;
  }

  closed(...note) {
    this.el.replaceChildren(
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'action-open', onclick: () => this.open('scale') }, 'Scale…'), h('button', { type: 'button', class: 'action-open', onclick: () => this.open('restart') }, 'Restart…')),
      ...note,
    );
  }

  async open(verb) {
    this.el.replaceChildren(h('p', { class: 'muted' }, 'reading the app\'s processes…'));
    try {
      const name = encodeURIComponent(this.app);
      const [detail, running] = await Promise.all([getJson(`/api/apps/${name}`), getJson(`/api/apps/${name}/instances`).catch(() => [])]);
      const services = serviceProcesses(detail.spec);
      if (!services.length) return this.closed(h('p', { class: 'error', role: 'alert' }, `${this.app} has no service process to ${verb}`));
      const counts = new Map(services.map((p) => [p, running.filter((i) => i.process === p).length]));
      this.showForm(verb, services, counts);
    } catch (err) {
      if (err instanceof AuthNeededError) return this.page.askToken(err.message);
      this.closed(h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
    }
  }

  showForm(verb, services, counts) {
    const scaling = verb === 'scale';
    const process = h(
      'select',
      { name: 'process', 'aria-label': `process to ${verb}` },
      scaling ? '' : h('option', { value: '' }, 'every service process'),
      services.map((p) => h('option', { value: p }, `${p} (${counts.get(p)} running)`)),
    );
    const count = scaling ? h('input', { type: 'number', name: 'count', min: '1', step: '1', required: true, value: String(Math.max(1, counts.get(services[0]) ?? 1)), 'aria-label': 'instances' }) : undefined;
    // The count starts at what runs now for the chosen process.
    if (count) process.addEventListener('change', () => (count.value = String(Math.max(1, counts.get(process.value) ?? 1))));
    const confirm = h('input', { type: 'text', name: 'confirm', autocomplete: 'off', placeholder: this.app, 'aria-label': `type ${this.app} to confirm` });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = async (event) => {
      event.preventDefault();
      if (count && !count.reportValidity()) return;
      if (confirm.value.trim() !== this.app) {
        error.textContent = `type ${this.app} to confirm`;
        return;
      }
      const body = scaling ? { process: process.value, count: Number(count.value) } : process.value ? { process: process.value } : {};
      try {
        const queued = await sendJson('POST', this.path(verb), body);
        this.follow(verb, queued.sagaId);
      } catch (err) {
        if (err instanceof AuthNeededError) return this.page.askToken(err.message);
        error.textContent = err instanceof Error ? err.message : String(err);
      }
    };
    this.el.replaceChildren(
      h(
        'form',
        { class: 'rollback-plan', 'data-verb': verb, onsubmit: submit },
        h('p', {}, scaling ? 'Change how many instances of a process run (each new one must pass its health check).' : 'Restart instances one at a time, each healthy again before the next.'),
        h('label', {}, 'Process ', process),
        count ? h('label', {}, 'Instances ', count) : '',
        h('label', {}, `Type ${this.app} to confirm `, confirm),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, scaling ? 'Scale' : 'Restart'), h('button', { type: 'button', class: 'link', onclick: () => this.closed() }, 'Cancel')),
        error,
      ),
    );
    confirm.focus();
  }

  follow(verb, sagaId) {
    const state = badge('running');
    const message = h('span', { class: 'muted' });
    const outcome = h('p', { 'data-outcome': 'running', 'data-saga': sagaId }, `${verb} `, h('a', { href: sagaHref(sagaId) }, sagaId), ' ', state, ' ', message);
    this.closed(outcome);
    followSaga(sagaId, (now, text) => {
      outcome.setAttribute('data-outcome', now);
      state.setAttribute('data-state', now);
      state.textContent = now;
      message.textContent = text;
    }).catch(this.page.fail);
  }
}
