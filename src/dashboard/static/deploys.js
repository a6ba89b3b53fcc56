// The state of deploys as the page knows it, folded from saga events (REST) and live envelopes (/ws) into one
// shape. Each deploy remembers which seqs it has applied, so the same event from both sources counts once.

const STEP_STATUS = { 'step.start': 'running', 'step.complete': 'complete', 'step.failed': 'failed', 'step.skipped': 'skipped' };
const ENDED = ['succeeded', 'failed', 'superseded', 'interrupted'];
const LINES_KEPT = 50;

export function isEnded(status) {
  return ENDED.includes(status);
}

/** A saga event from the API as an update. */
export function fromEvent(e) {
  const m = e.metadata ?? {};
  const base = { seq: e.seq, sagaId: e.sagaId, app: e.app, at: Date.parse(e.timestamp) || Date.now(), message: e.message };
  if (e.action === 'deploy.queued') return { ...base, kind: 'queued', ref: m.ref, commitSha: m.commitSha, trigger: m.trigger, deployKind: m.kind };
  if (STEP_STATUS[e.action]) return { ...base, kind: 'step', step: m.step, status: STEP_STATUS[e.action], durationMs: m.durationMs };
  if (e.action === 'deploy.complete') return { ...base, kind: 'completed', imageTag: m.imageTag, durationMs: m.durationMs };
  if (['deploy.failed', 'deploy.superseded', 'deploy.interrupted'].includes(e.action)) {
    return { ...base, kind: 'failed', step: m.step, reason: e.action === 'deploy.failed' ? 'failed' : e.action.slice(7) };
  }
  return { ...base, kind: 'progress', step: m.step };
}

/** A /ws envelope as an update. */
export function fromEnvelope(env) {
  const p = env.payload ?? {};
  const base = { seq: env.seq, sagaId: p.sagaId, app: env.appId, at: Date.now() };
  switch (env.type) {
    case 'deploy.queued':
      return { ...base, kind: 'queued', ref: p.ref, commitSha: p.commitSha, trigger: p.trigger, deployKind: p.kind, message: `queued ${p.ref ?? ''}` };
    case 'deploy.step':
      return { ...base, kind: 'step', step: p.step, status: p.status, durationMs: p.durationMs, message: p.message ?? `${p.step} ${p.status}` };
    case 'deploy.completed':
      return { ...base, kind: 'completed', imageTag: p.imageTag, durationMs: p.durationMs, message: `deploy succeeded${p.imageTag ? ` (${p.imageTag})` : ''}` };
    case 'deploy.failed':
      return { ...base, kind: 'failed', step: p.step, reason: p.reason ?? 'failed', message: p.error ?? 'deploy failed' };
    default:
      return { ...base, kind: 'progress', step: p.step, message: p.message ?? '' };
  }
}

export class DeployBook {
  constructor() {
    this.deploys = new Map();
  }

  get(sagaId) {
    return this.deploys.get(sagaId);
  }

  entry(sagaId, app, at) {
    let d = this.deploys.get(sagaId);
    if (!d) {
      d = { sagaId, app, status: undefined, createdAt: new Date(at).toISOString(), steps: {}, lines: [], seen: new Set() };
      this.deploys.set(sagaId, d);
    }
    return d;
  }

  /** A deploy as the API lists it. A final status already learnt from events wins over an older listing. */
  seed(view) {
    const d = this.entry(view.sagaId, view.app, Date.parse(view.createdAt) || Date.now());
    Object.assign(d, { ref: view.ref, commitSha: view.commitSha, trigger: view.trigger, kind: view.kind, createdAt: view.createdAt });
    if (!isEnded(d.status)) Object.assign(d, { status: view.status, error: view.error, imageTag: view.imageTag });
    this.learnSteps(view);
    return d;
  }

  /** The steps the API lists for a run it describes (its `steps`), for a deploy this page already knows. */
  learnSteps(view) {
    const d = this.deploys.get(view.sagaId);
    if (d && Array.isArray(view.steps)) d.stepNames = view.steps.map(String);
  }

  /** Applies one update; returns the deploy, or undefined when that event was already applied. */
  apply(u) {
    if (!u.sagaId) return undefined;
    const d = this.entry(u.sagaId, u.app, u.at);
    if (d.seen.has(u.seq)) return undefined;
    d.seen.add(u.seq);
    if (u.message) {
      d.lines.push({ seq: u.seq, text: u.message, kind: u.kind, status: u.status });
      d.lines.sort((a, b) => a.seq - b.seq);
      if (d.lines.length > LINES_KEPT) d.lines.shift();
    }
    if (u.kind === 'queued') {
      Object.assign(d, { ref: u.ref ?? d.ref, commitSha: u.commitSha ?? d.commitSha, trigger: u.trigger ?? d.trigger, kind: u.deployKind ?? d.kind });
      d.status ??= 'queued';
    } else if (u.kind === 'step' && u.step) {
      const started = u.status === 'running' ? u.at : d.steps[u.step]?.startedAt;
      d.steps[u.step] = { status: u.status, durationMs: u.durationMs ?? undefined, startedAt: started };
      if (d.status === undefined || d.status === 'queued') d.status = 'running';
    } else if (u.kind === 'completed') {
      Object.assign(d, { status: 'succeeded', imageTag: u.imageTag ?? d.imageTag, durationMs: u.durationMs });
    } else if (u.kind === 'failed') {
      Object.assign(d, { status: u.reason === 'failed' ? 'failed' : u.reason, error: u.message, failedStep: u.step });
    }
    return d;
  }

  /** Running and queued deploys first (newest first), then up to `endedKept` of the most recently started ended ones. */
  feed(endedKept = 6) {
    const all = [...this.deploys.values()].filter((d) => d.status !== undefined);
    all.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    return [...all.filter((d) => !isEnded(d.status)), ...all.filter((d) => isEnded(d.status)).slice(0, endedKept)];
  }

  /** The newest deploy of an app this page knows of. */
  latestFor(app) {
    let best;
    for (const d of this.deploys.values()) if (d.app === app && d.status && (!best || String(d.createdAt) > String(best.createdAt))) best = d;
    return best;
  }
}
