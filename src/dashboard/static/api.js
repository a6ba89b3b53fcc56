/* global fetch, localStorage */
// The JSON API, with the operator's token when the service asks for one (kept in localStorage, sent as a bearer
// token; /ws takes it as ?token= because a browser cannot set headers on a WebSocket).

const TOKEN_KEY = 'norn.apiToken';

export class AuthNeededError extends Error {}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function savedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled: the page still works against a service without a token
  }
}

export function saveToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

export async function getJson(path) {
  const token = savedToken();
  return answer(await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' }), token);
}

async function answer(res, token) {
  if (res.status === 401) throw new AuthNeededError(token ? 'the saved token was refused' : 'this service needs an API token');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, typeof body.error === 'string' ? body.error : `HTTP ${res.status}`);
  return body;
}

/** A state-changing request with a JSON body (the API refuses any other kind from a browser); it needs the token. */
export async function sendJson(method, path, body = {}) {
  const token = savedToken();
  const headers = { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  return answer(await fetch(path, { method, headers, body: JSON.stringify(body), cache: 'no-store' }), token);
}

/** A file download with the token in the Authorization header (never in a URL, where logs and history keep it). */
export async function getBlob(path) {
  const token = savedToken();
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  if (!res.ok) return answer(res, token);
  return { blob: await res.blob(), sagaId: res.headers.get('X-Norn-Saga-Id') };
}
