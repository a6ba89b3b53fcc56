/* global document, location */
// Entry point: the header (title, live-stream state, token), then the page for location.pathname.
import { AuthNeededError, saveToken, savedToken } from './api.js';
import { homePage } from './home.js';
import { logsPage } from './logs-page.js';
import { sagaPage } from './saga-page.js';
import { h } from './view.js';

const CONNECTION_TEXT = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', offline: 'offline' };

const main = document.getElementById('main');
const conn = document.getElementById('conn');
const banner = document.getElementById('banner');

const page = {
  connection(state, detail) {
    conn.dataset.state = state;
    conn.textContent = CONNECTION_TEXT[state] ?? state;
    conn.title = detail ? `live stream: ${detail}` : 'live stream';
  },
  askToken(reason) {
    showTokenPrompt(reason);
  },
  fail(err) {
    if (err instanceof AuthNeededError) return showTokenPrompt(err.message);
    banner.hidden = false;
    banner.textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
  },
};

function showTokenPrompt(reason) {
  if (document.getElementById('token-form')) return;
  const input = h('input', { type: 'password', name: 'token', id: 'token-input', autocomplete: 'current-password', required: true, 'aria-label': 'API token' });
  const form = h(
    'form',
    { id: 'token-form', class: 'card token-form' },
    h('h2', {}, 'API token needed'),
    h(
      'p',
      { class: 'muted' },
      `${reason}. Enter the service's NORN_API_TOKEN, or when none is set the token it generated (the file api-token in its data dir, e.g. ./data/api-token); it is kept in this browser only.`,
    ),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Save')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    saveToken(input.value.trim());
    location.reload();
  });
  page.connection('offline');
  main.replaceChildren(form);
  input.focus();
}

document.getElementById('token-button').addEventListener('click', () => showTokenPrompt(savedToken() ? 'Replace the saved token' : 'Set a token'));

const saga = /^\/sagas\/([A-Za-z0-9-]{1,64})\/?$/.exec(location.pathname);
const logs = /^\/apps\/([a-z0-9][a-z0-9-]{0,62})\/logs\/?$/.exec(location.pathname);
(saga ? sagaPage(main, page, saga[1]) : logs ? logsPage(main, page, logs[1]) : homePage(main, page)).catch(page.fail);
