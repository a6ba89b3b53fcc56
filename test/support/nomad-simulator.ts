// NomadSimulator: a test double of Nomad's HTTP API, as docs/nomad-api.md describes it. No Nomad binary can run
// here, so tests talk to this stateful node:http server instead: plain-text errors with Nomad's status codes,
// X-Nomad-Index and blocking queries, an optional ACL token, evaluations, deployments, allocations that become
// healthy after MinHealthyTime (scaled by `timeFactor`), failure scenarios per job or image, and auto-revert.
// Pass `driver: dockerDriver(...)` (nomad-sim-docker.ts) to run healthy task groups as real containers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseGoDuration } from '../../src/apps/go-duration.js';
import type { NomadAllocation, NomadAllocationStub, NomadDeployment, NomadJob } from '../../src/integrations/nomad/nomad-types.js';
import { SimCluster, SimHttpError } from './nomad-sim-cluster.js';
import { type NomadSimDriver, type NomadSimScenario, scriptedDriver } from './nomad-sim-driver.js';
import { planJob } from './nomad-sim-plan.js';

export type { NomadSimScenario } from './nomad-sim-driver.js';

export interface NomadSimulatorOptions {
  /** When set, every call but /v1/status/leader needs this secret (X-Nomad-Token or Authorization: Bearer). */
  token?: string;
  /** Real ms per Nomad ms; the default 0.001 turns MinHealthyTime 30s into 30ms. */
  timeFactor?: number;
  /** Real ms of pretend work per step (scheduling, image pull, task start). */
  stepMs?: number;
  region?: string;
  /** Runs the tasks of healthy task groups (default: pretend). */
  driver?: NomadSimDriver;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  token: string | undefined;
  body: unknown;
}

interface Reply {
  status?: number;
  body: unknown;
  index: number;
}

type Handler = (req: { params: string[]; query: URLSearchParams; body: unknown; namespace: string }) => Reply;
interface Route {
  methods: string[];
  pattern: RegExp;
  kind: 'read' | 'write';
  handler: Handler;
}

const MAX_WAIT_MS = 300_000;

export class NomadSimulator {
  readonly requests: RecordedRequest[] = [];
  private readonly cluster: SimCluster;
  private readonly rules: { jobId?: string; image?: string; scenario: NomadSimScenario }[] = [];
  private readonly warnings = new Map<string, string[]>();
  private readonly routes: Route[];
  private readonly server: http.Server;
  private readonly region: string;
  url = '';

  private constructor(private readonly opts: NomadSimulatorOptions) {
    this.region = opts.region ?? 'global';
    this.cluster = new SimCluster({
      timeFactor: opts.timeFactor ?? 0.001,
      stepMs: opts.stepMs ?? 5,
      driver: opts.driver,
      scenarioFor: (jobId, images) => this.scenarioFor(jobId, images),
      warningsFor: (jobId) => this.warnings.get(jobId) ?? [],
    });
    this.routes = this.buildRoutes();
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(opts: NomadSimulatorOptions = {}): Promise<NomadSimulator> {
    const sim = new NomadSimulator(opts);
    await new Promise<void>((resolve) => sim.server.listen(0, '127.0.0.1', resolve));
    sim.url = `http://127.0.0.1:${(sim.server.address() as AddressInfo).port}`;
    return sim;
  }

  private scenarioFor(jobId: string, images: string[]): NomadSimScenario {
    const rule = [...this.rules].reverse().find((r) => (!r.jobId || r.jobId === jobId) && (!r.image || images.includes(r.image)));
    return rule?.scenario ?? 'healthy';
  }

  /** Make later registrations matching `match` (a job id, an image, or both) act out `scenario`. */
  setScenario(match: { jobId?: string; image?: string }, scenario: NomadSimScenario): void {
    this.rules.push({ ...match, scenario });
  }

  /** Warnings Nomad returns when `jobId` is registered. */
  setWarnings(jobId: string, warnings: string[]): void {
    this.warnings.set(jobId, warnings);
  }

  job(jobId: string, namespace = 'default'): NomadJob | undefined {
    return this.cluster.currentJob(namespace, jobId);
  }

  jobVersions(jobId: string, namespace = 'default'): NomadJob[] {
    return this.cluster.jobs.get(`${namespace}/${jobId}`)?.versions.map((v) => v.job) ?? [];
  }

  allocations(jobId: string, namespace = 'default'): NomadAllocation[] {
    return this.cluster.jobAllocs(namespace, jobId);
  }

  deployments(jobId: string): NomadDeployment[] {
    return [...this.cluster.deployments.values()].filter((d) => d.JobID === jobId).sort((a, b) => a.CreateIndex - b.CreateIndex);
  }

  /** Output as if the allocation's task wrote it (for tests of `norn logs`). */
  writeLog(allocId: string, task: string, type: 'stdout' | 'stderr', text: string): void {
    const runner = this.cluster.runner(allocId);
    if (!runner) throw new Error(`no allocation ${allocId} in the simulator`);
    runner.writeLog(task, type, Buffer.from(text));
  }

  /** After its next user restart, the allocation's tasks act out `scenario` (a restart that breaks the app). */
  setScenarioAfterRestart(allocId: string, scenario: NomadSimScenario): void {
    const runner = this.cluster.runner(allocId);
    if (!runner) throw new Error(`no allocation ${allocId} in the simulator`);
    runner.driverAfterRestart = scriptedDriver(scenario, this.opts.stepMs ?? 5);
  }

  async close(): Promise<void> {
    await this.cluster.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private buildRoutes(): Route[] {
    const c = this.cluster;
    const notFound = (what: string, table: keyof SimCluster['tableIndex']) => new NotFound(what, c.tableIndex[table]);
    const job = (ns: string, id: string) => c.currentJob(ns, id) ?? (() => { throw notFound('job not found', 'jobs'); })();
    const deployment = (id: string) => c.deployments.get(id) ?? (() => { throw notFound('deployment not found', 'deployments'); })();
    const register = (body: unknown, namespace: string, pathId?: string): Reply => {
      const b = (body ?? {}) as { Job?: NomadJob; Namespace?: string; PreserveCounts?: boolean };
      if (!b.Job) throw new SimHttpError(400, 'Job must be specified');
      if (!b.Job.ID) throw new SimHttpError(400, "Job ID hasn't been provided");
      if (pathId !== undefined && pathId !== b.Job.ID) throw new SimHttpError(400, 'Job ID does not match name');
      const result = c.register(b.Job, namespace, b.PreserveCounts === true);
      return { body: { ...result, LastContact: 0, KnownLeader: false, NextToken: '' }, index: result.Index };
    };
    const route = (methods: string, path: string, kind: Route['kind'], handler: Handler): Route => ({
      methods: methods.split('|'),
      pattern: new RegExp(`^${path.replace(/:\w+/g, '([^/]+)')}$`),
      kind,
      handler,
    });
    return [
      route('GET', '/v1/status/leader', 'read', () => ({ body: '127.0.0.1:4647', index: c.index })),
      route('GET', '/v1/agent/self', 'read', () => ({
        body: { config: { Region: this.region, Datacenter: 'dc1' }, member: { Name: 'sim-node-1' }, stats: {} },
        index: c.index,
      })),
      route('PUT|POST', '/v1/jobs', 'write', ({ body, namespace }) => register(body, namespace)),
      // JobListStub (N nomad/structs/structs.go); `prefix` filters on the id (docs/nomad-api.md section 4).
      route('GET', '/v1/jobs', 'read', ({ namespace, query }) => ({
        body: [...c.jobs.values()]
          .map((r) => r.versions.at(-1)!.job)
          .filter((j) => (namespace === '*' || j.Namespace === namespace) && j.ID.startsWith(query.get('prefix') ?? ''))
          .sort((a, b) => (a.ID < b.ID ? -1 : 1))
          .map((j) => ({
            ID: j.ID,
            ParentID: j.ParentID ?? '',
            Name: j.Name,
            Namespace: j.Namespace,
            Type: j.Type,
            Priority: j.Priority,
            Periodic: !!j.Periodic,
            ParameterizedJob: !!j.ParameterizedJob && !j.Dispatched,
            Stop: !!j.Stop,
            Status: j.Status,
            StatusDescription: '',
            Version: j.Version,
            CreateIndex: j.CreateIndex,
            ModifyIndex: j.ModifyIndex,
            JobModifyIndex: j.JobModifyIndex,
            SubmitTime: j.SubmitTime,
          })),
        index: c.tableIndex.jobs,
      })),
      route('PUT|POST', '/v1/job/:id/periodic/force', 'write', ({ params: [id], namespace }) => {
        const result = c.forcePeriodic(namespace, id!);
        return { body: result, index: result.Index };
      }),
      route('PUT|POST', '/v1/job/:id/dispatch', 'write', ({ params: [id], body, namespace }) => {
        const b = (body ?? {}) as { JobID?: string; Payload?: unknown; Meta?: unknown };
        if (b.JobID && b.JobID !== id) throw new SimHttpError(400, 'Job ID does not match');
        // Go decodes a []byte field from base64 and a map[string]string strictly: anything else is a 400.
        if (b.Payload !== undefined && b.Payload !== null && (typeof b.Payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.Payload) || b.Payload.length % 4 !== 0)) {
          throw new SimHttpError(400, 'illegal base64 data at input byte 0');
        }
        const meta = b.Meta ?? {};
        if (typeof meta !== 'object' || Array.isArray(meta) || Object.values(meta).some((v) => typeof v !== 'string')) {
          throw new SimHttpError(400, 'json: cannot unmarshal into Go struct field JobDispatchRequest.Meta of type string');
        }
        const result = c.dispatch(namespace, id!, Buffer.from((b.Payload as string | undefined) ?? '', 'base64'), meta as Record<string, string>);
        return { body: result, index: result.Index };
      }),
      route('GET', '/v1/job/:id', 'read', ({ params: [id], namespace }) => {
        const j = job(namespace, id!);
        return { body: j, index: j.ModifyIndex! };
      }),
      route('PUT|POST', '/v1/job/:id', 'write', ({ params: [id], body, namespace }) => register(body, namespace, id)),
      route('DELETE', '/v1/job/:id', 'write', ({ params: [id], query, namespace }) => {
        const result = c.deregister(namespace, id!, query.get('purge') === 'true');
        return { body: result, index: result.Index };
      }),
      route('PUT|POST', '/v1/job/:id/plan', 'write', ({ params: [id], body, namespace }) => {
        const b = (body ?? {}) as { Job?: NomadJob; Diff?: boolean };
        if (!b.Job?.ID) throw new SimHttpError(400, 'Job must have a valid ID');
        if (b.Job.ID !== id) throw new SimHttpError(400, 'Job ID does not match');
        const plan = planJob(c, b.Job, namespace, !!b.Diff, (jobId, images) => this.scenarioFor(jobId, images));
        return { body: plan, index: c.index };
      }),
      route('GET', '/v1/job/:id/allocations', 'read', ({ params: [id], namespace }) => ({
        body: c.jobAllocs(namespace, id!).map(stub),
        index: c.tableIndex.allocs,
      })),
      route('GET', '/v1/job/:id/deployment', 'read', ({ params: [id], namespace }) => ({
        body: [...c.deployments.values()].filter((d) => d.JobID === id && d.Namespace === namespace).sort((a, b) => b.CreateIndex - a.CreateIndex)[0] ?? null,
        index: c.tableIndex.deployments,
      })),
      route('GET', '/v1/job/:id/deployments', 'read', ({ params: [id], namespace }) => ({
        body: [...c.deployments.values()].filter((d) => d.JobID === id && d.Namespace === namespace).sort((a, b) => b.CreateIndex - a.CreateIndex),
        index: c.tableIndex.deployments,
      })),
      route('GET', '/v1/evaluation/:id', 'read', ({ params: [id] }) => {
        const e = c.evals.get(id!);
        if (!e) throw notFound('eval not found', 'evals');
        return { body: e, index: e.ModifyIndex };
      }),
      route('GET', '/v1/deployment/:id', 'read', ({ params: [id] }) => {
        const d = deployment(id!);
        return { body: d, index: d.ModifyIndex };
      }),
      route('GET', '/v1/deployment/allocations/:id', 'read', ({ params: [id] }) => ({
        body: [...c.allocs.values()].filter((a) => a.DeploymentID === id).map(stub),
        index: c.tableIndex.allocs,
      })),
      route('PUT|POST', '/v1/deployment/promote/:id', 'write', ({ params: [id] }) => {
        const d = deployment(id!);
        c.promote(d);
        return { body: { EvalID: '', EvalCreateIndex: 0, DeploymentModifyIndex: d.ModifyIndex, Index: c.index }, index: c.index };
      }),
      route('PUT|POST', '/v1/deployment/fail/:id', 'write', ({ params: [id] }) => {
        const d = deployment(id!);
        if (d.Status !== 'running') throw new SimHttpError(500, `can't fail terminal deployment: deployment status ${d.Status}`);
        const reverted = c.failDeployment(d, 'Deployment marked as failed');
        return {
          body: { EvalID: '', EvalCreateIndex: 0, DeploymentModifyIndex: d.ModifyIndex, RevertedJobVersion: reverted ?? null, Index: c.index },
          index: c.index,
        };
      }),
      route('PUT|POST', '/v1/job/:id/scale', 'write', ({ params: [id], body, namespace }) => {
        const b = (body ?? {}) as { Count?: unknown; Target?: Record<string, string> };
        const group = b.Target?.Group;
        if (!group) throw new SimHttpError(400, 'missing task group name for scaling action');
        if (b.Count !== undefined && b.Count !== null && (typeof b.Count !== 'number' || !Number.isInteger(b.Count))) throw new SimHttpError(400, 'scaling action count must be an integer');
        if (typeof b.Count === 'number' && b.Count < 0) throw new SimHttpError(400, "scaling action count can't be negative");
        if (typeof b.Count !== 'number') throw new SimHttpError(400, 'scaling action without a count is not supported by the simulator');
        const result = c.scaleGroup(namespace, id!, group, b.Count);
        return { body: { ...result, LastContact: 0, KnownLeader: false }, index: result.Index };
      }),
      route('PUT|POST', '/v1/client/allocation/:id/restart', 'write', ({ params: [id], body }) => {
        const a = c.allocs.get(id!);
        const runner = c.runner(id!);
        if (!a || !runner) throw new SimHttpError(404, `Unknown allocation "${id}"`);
        const b = (body ?? {}) as { TaskName?: string; AllTasks?: boolean };
        if (b.TaskName && b.AllTasks) throw new SimHttpError(400, 'task name cannot be set when all tasks is set');
        if (b.TaskName && !runner.hasTask(b.TaskName)) throw new SimHttpError(400, `Could not find task named: ${b.TaskName}`);
        if (b.TaskName && !runner.isRunning(b.TaskName)) throw new SimHttpError(500, 'Task not running');
        if (a.DesiredStatus !== 'run' || ['complete', 'failed', 'lost'].includes(a.ClientStatus)) throw new SimHttpError(500, 'Task not running');
        void runner.restart(b.TaskName);
        return { body: {}, index: c.index };
      }),
      route('GET', '/v1/allocation/:id', 'read', ({ params: [id] }) => {
        const a = c.allocs.get(id!);
        if (!a) throw notFound('alloc not found', 'allocs');
        return { body: a, index: a.ModifyIndex };
      }),
    ];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const raw = await readBody(req);
    const token = header(req, 'x-nomad-token') ?? header(req, 'authorization')?.replace(/^Bearer\s+/i, '');
    let body: unknown;
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), token, body: undefined };
    this.requests.push(record);
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(message);
    };
    const logs = /^\/v1\/client\/fs\/logs\/([^/]+)$/.exec(url.pathname);
    if (logs) {
      if (req.method !== 'GET') return fail(405, 'Invalid method');
      if (this.opts.token && token !== this.opts.token) return fail(403, 'Permission denied');
      return this.streamLogs(decodeURIComponent(logs[1]!), url.searchParams, res);
    }
    const forPath = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (forPath.length === 0) return void res.writeHead(404).end();
    const route = forPath.find((r) => r.methods.includes(req.method ?? ''));
    if (!route) return fail(405, 'Invalid method');
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined;
      record.body = body;
    } catch (err) {
      return fail(400, err instanceof Error ? err.message : 'invalid JSON');
    }
    if (this.opts.token && url.pathname !== '/v1/status/leader' && token !== this.opts.token) {
      return fail(403, token && url.pathname.startsWith('/v1/agent/') ? 'ACL token not found' : 'Permission denied');
    }
    const region = url.searchParams.get('region');
    if (region && region !== this.region && region !== 'global') return fail(500, 'No path to region');
    const bodyNs = (body as { Namespace?: string; Job?: { Namespace?: string } } | undefined) ?? {};
    const namespace = url.searchParams.get('namespace') || bodyNs.Namespace || bodyNs.Job?.Namespace || 'default';
    const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
    const call = () => route.handler({ params, query: url.searchParams, body, namespace });

    if (route.kind === 'write') {
      try {
        const reply = call();
        res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', 'X-Nomad-Index': String(reply.index) });
        return void res.end(JSON.stringify(reply.body));
      } catch (err) {
        return this.replyError(res, err, {});
      }
    }
    const minIndex = parseIndex(url.searchParams.get('index'));
    const waitMs = parseWait(url.searchParams.get('wait'));
    if (minIndex === undefined) return fail(400, 'Invalid index');
    if (waitMs === undefined) return fail(400, 'Invalid wait time');
    const outcome = await this.block(call, minIndex, waitMs, res);
    const readHeaders = { 'X-Nomad-Index': String(outcome.index), 'X-Nomad-LastContact': '0', 'X-Nomad-KnownLeader': 'true' };
    if ('error' in outcome) return this.replyError(res, outcome.error, readHeaders);
    res.writeHead(200, { 'Content-Type': 'application/json', ...readHeaders }).end(JSON.stringify(outcome.reply.body));
  }

  /**
   * `GET /v1/client/fs/logs/:alloc_id`: a task's stdout or stderr from `offset` bytes after the start or before the
   * end (`origin`), then with `follow=true` what it writes next, until the client goes away or the allocation stops.
   * `plain=true` sends the bytes as they are; otherwise JSON frames `{Data (base64), File, Offset}`.
   */
  private streamLogs(allocId: string, q: URLSearchParams, res: http.ServerResponse): void {
    const task = q.get('task') ?? '';
    const type = q.get('type') ?? '';
    const origin = q.get('origin') || 'start';
    const offset = Number(q.get('offset') || 0);
    const fail = (status: number, message: string) => res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(message);
    if (!task) return void fail(400, 'must provide task name');
    if (type !== 'stdout' && type !== 'stderr') return void fail(400, 'must provide log type (stdout/stderr)');
    if (origin !== 'start' && origin !== 'end') return void fail(400, 'origin must be start or end');
    if (!Number.isInteger(offset) || offset < 0) return void fail(400, 'offset must be a non-negative integer');
    const alloc = this.cluster.allocs.get(allocId);
    const runner = this.cluster.runner(allocId);
    if (!alloc || !runner) return void fail(404, `Unknown allocation "${allocId}"`);
    if (!runner.hasTask(task)) return void fail(400, `task "${task}" not found in allocation`);
    const plain = q.get('plain') === 'true';
    const follow = q.get('follow') === 'true';
    const file = runner.logFile(task, type);
    const name = `alloc/logs/${task}.${type}.0`;
    let sent = origin === 'start' ? Math.min(offset, file.data.length) : Math.max(0, file.data.length - offset);
    res.writeHead(200, { 'Content-Type': plain ? 'text/plain; charset=utf-8' : 'application/json' });
    res.flushHeaders();
    const send = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      sent += chunk.length;
      res.write(plain ? chunk : JSON.stringify({ Data: chunk.toString('base64'), File: name, Offset: sent }));
    };
    send(file.data.subarray(sent));
    const done = () => alloc.DesiredStatus !== 'run' || ['complete', 'failed', 'lost'].includes(alloc.ClientStatus);
    if (!follow || done()) return void res.end();
    file.followers.add(send);
    const unsubscribe = this.cluster.onChange(() => {
      if (done()) finish();
    });
    const finish = () => {
      file.followers.delete(send);
      unsubscribe();
      res.end();
    };
    res.on('close', () => {
      file.followers.delete(send);
      unsubscribe();
    });
  }

  /** Number of clients following a log right now (a test checks that none is left behind). */
  logFollowers(allocId: string, task: string, type: 'stdout' | 'stderr'): number {
    return this.cluster.runner(allocId)?.logFile(task, type).followers.size ?? 0;
  }

  /** Nomad's blocking query: answer once the result's index passes `minIndex`, or with the same result at timeout. */
  private block(call: () => Reply, minIndex: number, waitMs: number, res: http.ServerResponse) {
    type Outcome = { reply: Reply; index: number } | { error: unknown; index: number };
    const attempt = (): Outcome => {
      try {
        const reply = call();
        return { reply, index: reply.index };
      } catch (err) {
        return { error: err, index: err instanceof NotFound ? err.index : this.cluster.index };
      }
    };
    const first = attempt();
    if (minIndex === 0 || first.index > minIndex) return Promise.resolve(first);
    return new Promise<Outcome>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        resolve(attempt());
      };
      const unsubscribe = this.cluster.onChange(() => {
        if (attempt().index > minIndex) finish();
      });
      const timer = setTimeout(finish, waitMs + Math.random() * (waitMs / 16));
      res.on('close', () => {
        clearTimeout(timer);
        unsubscribe();
      });
    });
  }

  private replyError(res: http.ServerResponse, err: unknown, headers: Record<string, string>): void {
    const status = err instanceof SimHttpError ? err.status : 500;
    const message = err instanceof Error ? err.message : String(err);
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(message);
  }
}

/** A 404 that still carries the table index, as Nomad's reads do. */
class NotFound extends SimHttpError {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(404, message);
  }
}

function stub(a: NomadAllocation): NomadAllocationStub {
  const { DeploymentID: _d, Job: _j, AllocatedResources: _r, ...rest } = a;
  return structuredClone(rest);
}

function parseIndex(text: string | null): number | undefined {
  if (text === null || text === '') return 0;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function parseWait(text: string | null): number | undefined {
  if (text === null || text === '') return MAX_WAIT_MS;
  try {
    const ms = parseGoDuration(text);
    return ms < 0 ? undefined : Math.min(ms || MAX_WAIT_MS, MAX_WAIT_MS);
  } catch {
    return undefined;
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
