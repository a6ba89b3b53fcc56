// How `norn deploy` shows a deploy: plain lines (one per transition, for pipes and logs) or a terminal frame
// (the run's steps, a spinner on the running one). Pure functions of the envelope and the progress so far.
import type { Envelope } from './api-types.js';
import type { DeployProgress, StepState } from './deploy-progress.js';

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const NAME_WIDTH = 8; // "snapshot", the longest step name
const HEALTHY_LINES_SHOWN = 5;

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The plain lines for one envelope, already applied to `progress`. */
export function plainLines(env: Envelope, progress: DeployProgress): string[] {
  return unfold(envelopeLines(env, progress));
}

function envelopeLines(env: Envelope, progress: DeployProgress): string[] {
  const p = env.payload;
  switch (env.type) {
    case 'deploy.queued':
      return [`queued ${env.appId} ${progress.ref ?? ''} @ ${progress.commitSha?.slice(0, 12) ?? '?'} (saga ${progress.sagaId})`];
    case 'deploy.step': {
      const step = progress.step(p.step);
      return step ? [stepLine(step, step.status === 'running' ? '▶' : undefined)] : [];
    }
    case 'deploy.progress':
      if (p.action === 'deploy.start') return [`▶ ${String(p.message)}`];
      return [`    ${String(p.message)}`];
    case 'deploy.completed':
    case 'deploy.failed':
      return endLines(progress);
  }
}

/** The terminal frame: header, the run's steps, and the outcome (or a notice such as "reconnecting"). */
export function frameLines(app: string, progress: DeployProgress, opts: { now: number; tick: number; notice?: string }): string[] {
  const lines = [`${progress.kind} ${app} ${progress.ref ?? ''} @ ${progress.commitSha?.slice(0, 12) ?? '?'}  saga ${progress.sagaId}`];
  for (const step of progress.steps) {
    const spinner = SPINNER[opts.tick % SPINNER.length]!;
    if (step.status === 'running') {
      const elapsed = step.startedAt === undefined ? '' : `  ${formatDuration(Math.max(0, opts.now - step.startedAt))}`;
      lines.push(`  ${spinner} ${step.name.padEnd(NAME_WIDTH)}${elapsed}`);
    } else if (step.status === 'pending') {
      lines.push(progress.isFinished ? `  · ${step.name.padEnd(NAME_WIDTH)}  not run` : `  · ${step.name}`);
    } else {
      lines.push(`  ${stepLine(step)}`);
    }
    const shown = step.name === 'healthy' ? HEALTHY_LINES_SHOWN : step.status === 'running' ? 1 : 0;
    const tail = shown > 0 ? step.progress.slice(-shown) : [];
    for (const line of tail) lines.push(`      ${line}`);
  }
  if (progress.isFinished) lines.push(...endLines(progress));
  else if (opts.notice) lines.push(opts.notice);
  else if (progress.outcome === 'queued') lines.push('waiting in the queue…');
  return unfold(lines);
}

/** Multi-line messages (git's stderr, a build error) become indented continuation lines, one per line. */
function unfold(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const [first, ...rest] = line.trimEnd().split(/\r?\n/);
    const indent = ' '.repeat((/^\s*/.exec(first!)?.[0].length ?? 0) + 4);
    return [first!, ...rest.map((l) => `${indent}${l.trim()}`)];
  });
}

function stepLine(step: StepState, icon?: string): string {
  const name = step.name.padEnd(NAME_WIDTH);
  const took = step.durationMs === undefined ? '' : formatDuration(step.durationMs);
  switch (step.status) {
    case 'complete':
      return `✓ ${name}  ${took}`;
    case 'skipped':
      return `– ${name}  skipped${detail(step, 'skipped') ? `: ${detail(step, 'skipped')}` : ''}`;
    case 'failed':
      return `✗ ${name}  ${took}${detail(step, 'failed') ? `  ${detail(step, 'failed')}` : ''}`;
    default:
      return `${icon ?? '·'} ${step.name}`;
  }
}

/** The step's message without the "<step> skipped: " / "<step> failed: " prefix the runner puts on it. */
function detail(step: StepState, verb: string): string {
  const prefix = `${step.name} ${verb}: `;
  const m = step.message ?? '';
  return m.startsWith(prefix) ? m.slice(prefix.length) : m;
}

function endLines(progress: DeployProgress): string[] {
  if (progress.outcome === 'succeeded') {
    const took = progress.durationMs === undefined ? '' : ` in ${formatDuration(progress.durationMs)}`;
    const routing = progress.notRouted ? [`! live, not routed: ${progress.notRouted}`] : [];
    if (progress.kind === 'preflight') return [`✓ preflight passed${took}`, ...(progress.imageTag ? [`image ${progress.imageTag} (built to check, not pushed)`] : [])];
    if (progress.kind === 'rollback') return [`✓ rolled back${took}`, ...routing, ...(progress.imageTag ? [`image ${progress.imageTag}`] : [])];
    return [`✓ deployed${took}`, ...routing, ...(progress.imageTag ? [`image ${progress.imageTag}`] : [])];
  }
  const step = progress.failedStep;
  const error = step && progress.error?.startsWith(`${step} failed: `) ? progress.error.slice(step.length + 9) : progress.error;
  if (progress.reason === 'superseded') return [`✗ superseded: ${error ?? 'a newer push replaced this deploy'}`];
  const verb = progress.reason === 'interrupted' ? 'interrupted' : 'failed';
  return [`✗ ${verb}${step ? ` at ${step}` : ''}: ${error ?? 'no reason given'}`];
}
