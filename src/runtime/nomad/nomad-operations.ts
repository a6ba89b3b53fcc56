// `norn logs`, `norn scale` and `norn restart` on the Nomad runtime (docs/nomad-api.md section 7).
// Logs read each task's stdout and stderr from the client's alloc logs API (raw bytes, `plain=true`); Nomad keeps
// no timestamps with them, so `--since` is refused rather than guessed. Scale sets the task group's count through
// the job scale API and follows the evaluation like a deploy. Restart restarts one allocation in place at a time
// and waits until its tasks run again and keep running (no restart, no exit) for the healthy window, the way
// `nomad job restart` waits for each batch; the first that does not stops the roll.
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidInputError, NotFoundError, StepFailedError, UpstreamError } from '../../errors.js';
import { explainAlloc } from './alloc-progress.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadAllocation, NomadAllocationStub } from '../../integrations/nomad/nomad-types.js';
import { type WatchConfig, watchRegistration } from './watch-registration.js';
import {
  InstanceFailedError,
  type LogLine,
  type LogRequest,
  type RestartOutcome,
  type RestartRequest,
  type ScaleOutcome,
  type ScaleRequest,
} from '../../pipeline/runtime-operations.js';
import { mergeLogSources } from '../merge-log-sources.js';

export interface NomadOperationsConfig {
  readonly watch: WatchConfig;
  /** How long a scale may take to become healthy, and a restarted allocation to run again. */
  readonly deadlineMs: number;
  /** How long a restarted allocation's tasks must keep running before the next one is restarted. */
  readonly restartHealthyMs: number;
}

/** Bytes asked per line of `--tail`: Nomad offsets count bytes, not lines. */
const BYTES_PER_TAIL_LINE = 512;
const MAX_TAIL_BYTES = 1024 * 1024;

export function nomadLogs(nomad: NomadClient, app: string, req: LogRequest): AsyncIterable<LogLine> {
  if (req.sinceMs !== undefined) throw new InvalidInputError('since', 'Nomad keeps no timestamps with allocation logs; on the Nomad runtime use --tail');
  return (async function* () {
    const allocs = (await currentAllocs(nomad, app, req.signal)).filter((a) => req.process === undefined || a.TaskGroup === req.process);
    const sources: AsyncIterable<LogLine>[] = [];
    for (const stub of allocs) {
      const { value: alloc } = await nomad.readAllocation(stub.ID, { signal: req.signal });
      const tasks = alloc.Job?.TaskGroups.find((g) => g.Name === stub.TaskGroup)?.Tasks.map((t) => t.Name) ?? [stub.TaskGroup];
      for (const task of tasks) for (const type of ['stdout', 'stderr'] as const) sources.push(taskLogLines(nomad, stub, task, type, req));
    }
    yield* mergeLogSources(sources);
  })();
}

async function* taskLogLines(nomad: NomadClient, alloc: NomadAllocationStub, task: string, type: 'stdout' | 'stderr', req: LogRequest): AsyncGenerator<LogLine> {
  const line = (text: string): LogLine => ({ process: alloc.TaskGroup, instance: alloc.ID.slice(0, 8), stream: type, text });
  try {
    if (req.tail !== undefined) {
      // The tail first, read to its end, then (following) a second read from the end: Nomad counts bytes, so only a
      // complete read can be cut to whole lines.
      const bytes = Math.min(req.tail * BYTES_PER_TAIL_LINE, MAX_TAIL_BYTES);
      const text = await readAll(await nomad.allocLogs(alloc.ID, { task, type, follow: false, origin: 'end', offset: bytes, signal: req.signal }));
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      if (Buffer.byteLength(text) >= bytes) lines.shift(); // cut mid-line
      for (const l of lines.slice(-req.tail)) yield line(l);
      if (!req.follow) return;
    }
    const origin = req.tail !== undefined ? 'end' : 'start';
    const body = await nomad.allocLogs(alloc.ID, { task, type, follow: req.follow, origin, offset: 0, signal: req.signal });
    yield* splitLines(body, req.signal, line);
  } catch (err) {
    if (req.signal.aborted) return;
    yield line(`[norn] the ${type} of ${alloc.Name} could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function* splitLines(body: ReadableStream<Uint8Array>, signal: AbortSignal, line: (text: string) => LogLine): AsyncGenerator<LogLine> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let partial = '';
  try {
    for (;;) {
      if (signal.aborted) return;
      const { done, value } = await reader.read();
      if (done) break;
      const parts = (partial + decoder.decode(value, { stream: true })).split('\n');
      partial = parts.pop()!;
      for (const p of parts) yield line(p.replace(/\r$/, ''));
    }
    partial += decoder.decode();
    if (partial) yield line(partial);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

/**
 * The last `tail` lines an allocation's tasks wrote (`GET /api/apps/:app/instances/:id/logs`): stdout, then stderr,
 * each under a heading, since Nomad keeps them in separate files with no timestamps to interleave them by.
 */
export async function nomadInstanceLogs(nomad: NomadClient, app: string, instanceId: string, opts: { tail: number; signal?: AbortSignal }): Promise<string> {
  const signal = opts.signal ?? AbortSignal.timeout(15_000);
  const stub = (await currentAllocs(nomad, app, signal)).find((a) => a.ID.startsWith(instanceId));
  if (!stub || instanceId.length < 6) throw new NotFoundError('instance', instanceId.slice(0, 64));
  const parts: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const lines: string[] = [];
    for await (const l of taskLogLines(nomad, stub, stub.TaskGroup, stream, { follow: false, tail: opts.tail, signal })) lines.push(l.text);
    if (lines.length > 0) parts.push(`--- ${stream} ---\n${lines.join('\n')}\n`);
  }
  return parts.join('');
}

export async function nomadScale(config: NomadOperationsConfig, nomad: NomadClient, req: ScaleRequest): Promise<ScaleOutcome> {
  const job = await nomad.readJob(req.app, { signal: req.signal }).catch((err: unknown) => {
    if (err instanceof UpstreamError && err.status === 404) throw new StepFailedError('scale', `Nomad has no job ${req.app}: deploy it first`);
    throw err;
  });
  const group = job.value.TaskGroups.find((g) => g.Name === req.process);
  if (!group) throw new StepFailedError('scale', `Nomad's job ${req.app} has no task group ${req.process}: deploy the spec that declares it first`);
  const from = group.Count;
  const registration = await nomad.scaleGroup(req.app, req.process, req.count, `norn scale ${req.app} ${req.process} ${req.count}`, { signal: req.signal });
  await req.report(`Nomad scales ${req.process} from ${from} to ${req.count} (evaluation ${registration.evalId.slice(0, 8)})`);
  const outcome = await watchRegistration(config.watch, { nomad, sleep: (ms, signal) => delay(ms, undefined, { signal }), now: Date.now }, {
    jobId: req.app,
    evalId: registration.evalId,
    deadline: Date.now() + config.deadlineMs,
    signal: req.signal,
    onAllocChange: (c) => void req.report(`${c.name} (${c.allocId.slice(0, 8)}) ${c.phase}${c.event ? ` — ${c.event}` : ''}`, { instance: c.allocId.slice(0, 8), phase: c.phase }),
    onNote: (message) => void req.report(message),
  });
  if (!outcome.ok) {
    if (outcome.allocId) throw new InstanceFailedError(outcome.allocId.slice(0, 8), outcome.taskGroup ?? req.process, outcome.reason);
    throw new StepFailedError('scale', outcome.reason);
  }
  return { from, to: req.count };
}

export async function nomadRestart(config: NomadOperationsConfig, nomad: NomadClient, req: RestartRequest): Promise<RestartOutcome> {
  const allocs = (await currentAllocs(nomad, req.app, req.signal))
    .filter((a) => a.ClientStatus === 'running' && (req.process === undefined || a.TaskGroup === req.process))
    .sort((a, b) => a.TaskGroup.localeCompare(b.TaskGroup) || a.Name.localeCompare(b.Name));
  if (allocs.length === 0) throw new StepFailedError('restart', `${req.app} has no running ${req.process ?? 'service'} allocation to restart`);
  const restarted: { process: string; instance: string }[] = [];
  for (const [i, stub] of allocs.entries()) {
    req.signal.throwIfAborted();
    const instance = stub.ID.slice(0, 8);
    const before = (await nomad.readAllocation(stub.ID, { signal: req.signal })).value;
    await req.report(`restarting ${stub.Name} (${instance}, ${i + 1}/${allocs.length})`, { instance });
    await nomad.restartAllocation(stub.ID, { signal: req.signal });
    const why = await runningAgain(config, nomad, before, req.signal);
    if (why) throw new InstanceFailedError(instance, stub.TaskGroup, `${why}; ${allocs.length - i - 1} allocation(s) after it were not restarted`);
    restarted.push({ process: stub.TaskGroup, instance });
    await req.report(`${stub.Name} (${instance}) runs again`, { instance });
  }
  return { restarted };
}

/** Undefined once every task started again after `before` and kept running for the window; else why not. */
async function runningAgain(config: NomadOperationsConfig, nomad: NomadClient, before: NomadAllocation, signal: AbortSignal): Promise<string | undefined> {
  const deadline = Date.now() + config.deadlineMs;
  const was = before.TaskStates ?? {};
  let runningSince: number | undefined;
  let index = 0;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return `its tasks did not run again for ${Math.round(config.restartHealthyMs / 1000)}s within ${Math.round(config.deadlineMs / 1000)}s (${explainAlloc(await latest(nomad, before.ID)) ?? 'no task event'})`;
    const wait = runningSince === undefined ? Math.min(left, config.watch.blockingWaitMs) : Math.min(left, config.restartHealthyMs - (Date.now() - runningSince));
    const read = await nomad.readAllocation(before.ID, { index, waitMs: Math.max(1, wait), signal });
    index = read.index;
    const alloc = read.value;
    if (alloc.DesiredStatus !== 'run' || ['failed', 'complete', 'lost'].includes(alloc.ClientStatus)) return `the allocation is ${alloc.ClientStatus} (${explainAlloc(alloc) ?? alloc.ClientDescription})`;
    const tasks = Object.entries(alloc.TaskStates ?? {});
    const restartedAgain = tasks.find(([name, t]) => t.Restarts > (was[name]?.Restarts ?? 0) + 1);
    if (restartedAgain) return `task ${restartedAgain[0]} restarted again after the restart (${explainAlloc(alloc) ?? 'no task event'})`;
    const fresh = tasks.every(([name, t]) => t.State === 'running' && t.StartedAt !== (was[name]?.StartedAt ?? null));
    if (!fresh) runningSince = undefined;
    else if ((runningSince ??= Date.now()) + config.restartHealthyMs <= Date.now()) return undefined;
  }
}

async function latest(nomad: NomadClient, allocId: string): Promise<NomadAllocation> {
  return (await nomad.readAllocation(allocId)).value;
}

async function currentAllocs(nomad: NomadClient, app: string, signal: AbortSignal): Promise<NomadAllocationStub[]> {
  try {
    return (await nomad.jobAllocations(app, { signal })).value.filter((a) => a.DesiredStatus === 'run');
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404) return [];
    throw err;
  }
}
