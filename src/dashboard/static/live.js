/* global WebSocket, URLSearchParams, location, setTimeout */
// The /ws live stream. After a dropped connection it reconnects with ?since=<last seq seen>, so the service replays
// what was missed; an envelope already seen (a replay overlapping what arrived live) is dropped here.
import { savedToken } from './api.js';

const MAX_DELAY_MS = 10_000;
const SEEN_KEEP = 5_000;

export class LiveSocket {
  /**
   * @param {{ app?: string, since: number }} config
   * @param {{ onEnvelope: (env: object) => void, onState: (state: string, detail?: string) => void, onAuthFailed: () => void }} handlers
   */
  constructor(config, handlers) {
    this.app = config.app;
    this.since = config.since;
    this.handlers = handlers;
    this.seen = new Set();
    this.failures = 0;
    this.socket = undefined;
    this.timer = undefined;
  }

  start() {
    this.connect();
  }

  connect() {
    const query = new URLSearchParams({ since: String(this.since) });
    if (this.app) query.set('app', this.app);
    const token = savedToken();
    if (token) query.set('token', token);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws?${query}`);
    this.socket = socket;
    this.handlers.onState(this.failures > 0 ? 'reconnecting' : 'connecting');
    socket.addEventListener('open', () => {
      this.failures = 0;
      this.handlers.onState('live');
    });
    socket.addEventListener('message', (m) => this.receive(m.data));
    socket.addEventListener('close', (ev) => {
      if (this.socket !== socket) return;
      if (ev.code === 1008 && /token/i.test(ev.reason)) {
        this.handlers.onState('offline', ev.reason);
        this.handlers.onAuthFailed();
        return;
      }
      this.failures += 1;
      // Exponential backoff with jitter, so many dashboards do not all come back at the same instant.
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** (this.failures - 1)) * (0.75 + Math.random() * 0.5);
      this.handlers.onState('reconnecting', ev.reason);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  receive(data) {
    let env;
    try {
      env = JSON.parse(data);
    } catch {
      return;
    }
    if (!env || typeof env.seq !== 'number' || typeof env.type !== 'string') return;
    // Events of concurrent deploys may arrive slightly out of order, so dedupe by seq rather than by "newer than".
    if (this.seen.has(env.seq)) return;
    this.seen.add(env.seq);
    if (this.seen.size > SEEN_KEEP) this.seen.delete(this.seen.values().next().value);
    this.since = Math.max(this.since, env.seq);
    this.handlers.onEnvelope(env);
  }
}
