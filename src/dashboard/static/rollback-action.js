// The app card's "Roll back…" action, like `norn rollback`: it asks the API for the plan (a dry run, nothing is
// queued), shows which version comes back and what happened to the database since, offers the snapshot when one can
// be restored, and queues the rollback once the operator typed the app's name. The live feed then shows it running.
// App cards are redrawn on every live event, so each app's panel is one element kept here and moved into the new
// card: what the operator typed survives the redraw.
import { sendJson } from './api.js';
import { h, sagaHref } from './view.js';

export class RollbackPanels {
  constructor() {
    this.panels = new Map();
  }

  /** The action for `app`; `canRollBack`: it has a successful deploy to roll back from. */
  for(app, canRollBack) {
    if (!canRollBack) return '';
    let panel = this.panels.get(app);
    if (!panel) {
      panel = new RollbackPanel(app);
      this.panels.set(app, panel);
    }
    return panel.el;
  }
}

class RollbackPanel {
  constructor(app) {
    this.app = app;
    this.el = h('div', { class: 'action rollback', 'data-action': 'rollback' });
    this.closed();
  }

  path() {
    return `/api/apps/${encodeURIComponent(this.app)}/rollback`;
  }

  closed(note) {
    this.el.replaceChildren(h('button', { type: 'button', class: 'action-open', onclick: () => this.open() }, 'Roll back…'), note ?? '');
  }

  async open() {
    this.el.replaceChildren(h('p', { class: 'muted' }, 'asking for the plan…'));
    try {
      const { plan } = await sendJson('POST', this.path(), { dryRun: true });
      this.showPlan(plan);
    } catch (err) {
      this.closed(h('p', { class: 'error', role: 'alert' }, err.message));
    }
  }

  showPlan(plan) {
    const db = plan.database;
    const restore = db.restorable && db.snapshot ? h('input', { type: 'checkbox', name: 'restoreSnapshot' }) : undefined;
    const confirm = h('input', { type: 'text', name: 'confirm', autocomplete: 'off', placeholder: this.app, 'aria-label': `type ${this.app} to confirm` });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = async (event) => {
      event.preventDefault();
      if (confirm.value.trim() !== this.app) {
        error.textContent = `type ${this.app} to confirm`;
        return;
      }
      const restoreSnapshot = restore?.checked === true;
      try {
        const queued = await sendJson('POST', this.path(), { to: plan.target.sagaId, restoreSnapshot, ...(restoreSnapshot ? { confirm: true } : {}) });
        this.closed(h('p', { class: 'muted' }, 'rollback queued: ', h('a', { href: sagaHref(queued.sagaId) }, queued.sagaId)));
      } catch (err) {
        error.textContent = err.message;
      }
    };
    this.el.replaceChildren(
      h(
        'form',
        { class: 'rollback-plan', onsubmit: submit },
        h('p', {}, `now ${plan.current.image}`),
        h('p', {}, 'back to ', h('a', { href: sagaHref(plan.target.sagaId) }, plan.target.image), ` (commit ${plan.target.commitSha.slice(0, 7)})`),
        h('p', { class: db.migrated ? 'error' : 'muted' }, db.migrated ? `migrations ran since: ${db.summary}` : db.summary),
        restore ? h('label', {}, restore, ` restore snapshot ${db.snapshot.ts} first (data written since is lost, except in a safety snapshot)`) : '',
        h('label', {}, `Type ${this.app} to confirm `, confirm),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Roll back'), h('button', { type: 'button', class: 'link', onclick: () => this.closed() }, 'Cancel')),
        error,
      ),
    );
    confirm.focus();
  }
}
