// What the home page's operator panels share: a select of the apps the receiver tracks, and actions whose failure
// shows in the panel (or, when the API refused the token, asks for one).
import { AuthNeededError, getJson } from './api.js';
import { h } from './view.js';

/** Fills `select` with the tracked apps now and each time it gets focus (apps come and go); failures go to `fail`. */
export function keepAppOptions(select, fail) {
  const load = () => loadAppOptions(select).catch(fail);
  load();
  select.addEventListener('focus', load);
}

/** Fills `select` with the tracked apps, keeping the one chosen. */
async function loadAppOptions(select) {
  const chosen = select.value;
  const { apps } = await getJson('/api/apps');
  select.replaceChildren(...apps.map((a) => h('option', { value: a.name, selected: a.name === chosen }, a.name)));
}

/** Wraps an action: a refused token asks for one; any other failure is shown through `show` as an error line. */
export function guardedBy(page, show) {
  return (fn) =>
    async (...args) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof AuthNeededError) return page.askToken(err.message);
        show(h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
      }
    };
}
