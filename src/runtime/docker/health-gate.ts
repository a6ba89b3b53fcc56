// The Docker runtime's health gate for one new instance: its HTTP health check (path, interval, timeout) must pass
// continuously for the minimum healthy time before the deadline. A process with a port but no check must accept
// connections; one without a port must stay up. An instance that exits or restarts fails at once. The last answer
// of the check is kept, so a failed deploy says what the app answered.
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../../errors.js';
import type { PlannedProcess } from '../../app-plan/plan-app.js';
import type { ContainerState } from '../../integrations/docker/docker-containers.js';

export interface GateInstance {
  readonly id: string;
  readonly process: string;
  /** host:port, or undefined for a process without a port. */
  readonly address?: string;
}

export interface GateOptions {
  readonly minHealthyMs: number;
  /** Epoch ms. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  state(id: string): Promise<ContainerState | undefined>;
  now?(): number;
}

export type GateOutcome = { ok: true } | { ok: false; lastAnswer: string; exited: boolean };

/** How often a check is asked before it first passes: soon, so a fast app is not held up by a long interval. */
const EARLY_POLL_MS = 100;

export async function gateInstance(inst: GateInstance, proc: PlannedProcess, opts: GateOptions): Promise<GateOutcome> {
  const now = opts.now ?? Date.now;
  let healthySince: number | undefined;
  let lastAnswer = 'not checked yet';
  const interval = proc.health?.intervalMs ?? 1000;
  for (;;) {
    opts.signal.throwIfAborted();
    const state = await opts.state(inst.id);
    if (!state) return { ok: false, exited: true, lastAnswer: 'the container is gone' };
    if (!state.running || state.restartCount > 0) {
      const why = state.running ? `it restarted ${state.restartCount} time(s)` : `it ${state.status} with code ${state.exitCode}`;
      return { ok: false, exited: true, lastAnswer: `${why}${state.error ? ` (${state.error})` : ''}; last check: ${lastAnswer}` };
    }
    const answer = await check(inst, proc, opts.signal);
    lastAnswer = answer.text;
    if (answer.ok) healthySince ??= now();
    else healthySince = undefined;
    const healthyFor = healthySince === undefined ? 0 : now() - healthySince;
    if (healthySince !== undefined && healthyFor >= opts.minHealthyMs) return { ok: true };
    const left = opts.deadline - now();
    if (left <= 0) return { ok: false, exited: false, lastAnswer };
    const wait = healthySince === undefined ? Math.min(interval, EARLY_POLL_MS) : Math.min(interval, opts.minHealthyMs - healthyFor);
    await delay(Math.max(50, Math.min(wait, left)), undefined, { signal: opts.signal });
  }
}

/** One ask of the instance's check, as a person would read the answer. */
export async function check(inst: GateInstance, proc: Pick<PlannedProcess, 'health'>, signal?: AbortSignal): Promise<{ ok: boolean; text: string }> {
  if (!inst.address) return { ok: true, text: 'running' };
  if (!proc.health) return tcpCheck(inst.address, 2000);
  const url = `http://${inst.address}${proc.health.path}`;
  const timeout = AbortSignal.timeout(proc.health.timeoutMs);
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
    const body = (await res.text()).slice(0, 200).trim();
    const ok = res.status >= 200 && res.status < 400;
    return { ok, text: `GET ${proc.health.path} answered ${res.status}${body && !ok ? `: ${body}` : ''}` };
  } catch (err) {
    signal?.throwIfAborted();
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const text = timeout.aborted ? `no answer within ${proc.health.timeoutMs} ms` : (cause ?? errorMessage(err));
    return { ok: false, text: `GET ${proc.health.path} failed: ${text}` };
  }
}

function tcpCheck(address: string, timeoutMs: number): Promise<{ ok: boolean; text: string }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, text: `port ${address} accepts connections` });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, text: `port ${address}: no answer within ${timeoutMs} ms` });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, text: `port ${address}: ${err.code ?? err.message}` }));
  });
}
