/* global window */
// Set or delete one value of an app's secrets file (PUT/DELETE /api/apps/:app/secrets/:key, with the saved token).
// The value field is a password field, sent in the request body only and emptied whatever the answer; the page
// shows the key, the outcome, the saga and the notes, never the value.
import { AuthNeededError, sendJson } from './api.js';
import { h, sagaHref } from './view.js';
import { keepAppOptions } from './panel-kit.js';

const KEY_PATTERN = '[A-Za-z_][A-Za-z0-9_]{0,255}';

export function secretsPanel(page) {
  const app = h('select', { id: 'secret-app', name: 'app', required: true, 'aria-label': 'app' });
  const key = h('input', { id: 'secret-key', name: 'key', required: true, pattern: KEY_PATTERN, placeholder: 'KEY', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'key' });
  const value = h('input', { id: 'secret-value', name: 'value', type: 'password', autocomplete: 'new-password', placeholder: 'value (not shown)', 'aria-label': 'value' });
  const result = h('div', { id: 'secret-result', 'aria-live': 'polite' });


  const run = async (op) => {
    if (!key.reportValidity() || !app.reportValidity()) return;
    if (op === 'set' && value.value === '') {
      result.replaceChildren(h('p', { class: 'error' }, 'Type a value to set (to remove a key, use Delete).'));
      return;
    }
    if (op === 'delete' && !window.confirm(`Delete ${key.value} from ${app.value}'s secrets file? Its next deploy runs without it.`)) return;
    const path = `/api/apps/${encodeURIComponent(app.value)}/secrets/${encodeURIComponent(key.value)}`;
    const body = op === 'set' ? { value: value.value } : {};
    value.value = '';
    try {
      const answer = await sendJson(op === 'set' ? 'PUT' : 'DELETE', path, body);
      result.replaceChildren(
        h('p', { 'data-outcome': answer.outcome }, `${answer.key}: ${answer.outcome} in ${answer.file} · `, h('a', { href: sagaHref(answer.sagaId) }, 'saga')),
        ...answer.notes.map((note) => h('p', { class: 'muted' }, note)),
      );
    } catch (err) {
      if (err instanceof AuthNeededError) return page.askToken(err.message);
      result.replaceChildren(h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
    }
  };

  const form = h(
    'form',
    { id: 'secrets-form', class: 'card secrets-form', onsubmit: (ev) => (ev.preventDefault(), run('set').catch(page.fail)) },
    app,
    key,
    value,
    h('button', { type: 'submit', id: 'secret-set' }, 'Set'),
    h('button', { type: 'button', id: 'secret-delete', onclick: () => run('delete').catch(page.fail) }, 'Delete'),
    h('p', { class: 'muted' }, 'Edits the app\'s secrets.enc.yaml on the receiver; takes effect on its next deploy.'),
    result,
  );
  keepAppOptions(app, page.fail);
  return h('section', { 'aria-labelledby': 'secrets-h' }, h('h2', { id: 'secrets-h' }, 'Secrets'), form);
}
