// Which outside systems the receiver is set up to use, and which of those answer right now: logged once at
// start-up, answered by `GET /api/health?verbose`, printed by `norn doctor`. Every probe runs at the same time
// under one short deadline, so a report takes as long as the slowest probe, never longer than the deadline.
import { errorMessage, knownNoAnswerReason, noAnswerReason, UpstreamError } from '../errors.js';

/** One outside system: how it is configured and how to ask it whether it is there. */
export interface IntegrationCheck {
  /** Short, stable id: `nomad`, `docker`, `registry`, `postgres`, `cloudflared`, `forge:github`, `sops`. */
  readonly name: string;
  /** What it is for, in a few words ("job scheduler for submit and healthy"). */
  readonly purpose: string;
  /** The settings that configure it, each only as set or unset: never their values. */
  readonly settings: Readonly<Record<string, boolean>>;
  /** Where it is (a URL, socket or file), with no credentials; absent when not configured. */
  readonly target?: string;
  /** Unset when the integration is not configured: then `unconfigured` says what the receiver does without it. */
  readonly probe?: (signal: AbortSignal) => Promise<string>;
  readonly unconfigured?: string;
  /** What to do when the probe fails: start something, change a setting. */
  readonly hint: string;
}

export type IntegrationState = 'ok' | 'failing' | 'not configured';

export interface IntegrationStatus {
  readonly name: string;
  readonly purpose: string;
  readonly state: IntegrationState;
  readonly settings: Readonly<Record<string, 'set' | 'unset'>>;
  readonly target: string | null;
  /** The probe's answer (a version) or why it failed; for `not configured`, what that means. */
  readonly detail: string;
  /** Only when failing. */
  readonly hint: string | null;
}

export interface IntegrationReport {
  readonly integrations: readonly IntegrationStatus[];
  /** True when something configured does not answer. Unconfigured integrations do not count. */
  readonly hasFailures: boolean;
}

export async function checkIntegrations(checks: readonly IntegrationCheck[], opts: { timeoutMs: number }): Promise<IntegrationReport> {
  const integrations = await Promise.all(checks.map((c) => checkOne(c, opts.timeoutMs)));
  return { integrations, hasFailures: integrations.some((i) => i.state === 'failing') };
}

async function checkOne(check: IntegrationCheck, timeoutMs: number): Promise<IntegrationStatus> {
  const base = {
    name: check.name,
    purpose: check.purpose,
    settings: Object.fromEntries(Object.entries(check.settings).map(([k, isSet]) => [k, isSet ? 'set' : 'unset'] as const)),
    target: check.target ?? null,
  };
  if (!check.probe) return { ...base, state: 'not configured', detail: check.unconfigured ?? 'not configured', hint: null };
  const deadline = AbortSignal.timeout(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  // A probe that ignores its signal still cannot hold the report past the deadline.
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 50);
  });
  try {
    const detail = await Promise.race([check.probe(deadline), late]);
    return { ...base, state: 'ok', detail, hint: null };
  } catch (err) {
    const detail = deadline.aborted ? `no answer within ${timeoutMs} ms` : failureDetail(err);
    return { ...base, state: 'failing', detail: detail.split('\n')[0]!.slice(0, 300), hint: check.hint };
  } finally {
    clearTimeout(timer);
  }
}

/** The failure in a few words: the report already says which integration and what to do, so not again here. */
function failureDetail(err: unknown): string {
  if (err instanceof UpstreamError) {
    if (err.status !== 0) return `answered ${err.status}: ${err.upstreamMessage}`;
    // A no-answer error built without a cause (a deadline of its own) already says what happened.
    return err.cause === undefined ? err.upstreamMessage : `no answer (${noAnswerReason(err.cause)})`;
  }
  const reason = knownNoAnswerReason(err);
  if (reason) return `no answer (${reason})`;
  return errorMessage(err);
}
