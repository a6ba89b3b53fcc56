// A typed client for the part of Nomad's HTTP API a deploy needs (docs/nomad-api.md). Reads support Nomad's
// blocking queries: pass the `index` a previous answer returned and the call waits (up to `waitMs`) for a change.
// Every failure is an UpstreamError carrying Nomad's status and its plain-text message.
import type { Logger } from 'pino';
import { noAnswerError, UpstreamError } from '../../errors.js';
import type {
  NomadAllocation,
  NomadAllocationStub,
  NomadDeployment,
  NomadDeploymentUpdateResponse,
  NomadDispatchResponse,
  NomadEvaluation,
  NomadJob,
  NomadJobListStub,
  NomadPeriodicForceResponse,
  NomadPlanResponse,
  NomadRegisterResponse,
} from './nomad-types.js';
import { createTlsFetch, type NomadTlsConfig } from './tls-fetch.js';

export interface NomadClientConfig {
  /** e.g. http://127.0.0.1:4646 (NOMAD_ADDR). */
  address: string;
  /** ACL secret id (NOMAD_TOKEN); sent as X-Nomad-Token, never logged. */
  token?: string;
  namespace?: string;
  region?: string;
  /** With TLS options the client talks through node:https instead of `deps.fetch`. */
  tls?: NomadTlsConfig;
}

export interface NomadClientDeps {
  fetch: typeof fetch;
  log: Logger;
}

export interface QueryOptions {
  /** Block until the answer's index is greater than this (Nomad's `?index=`). */
  index?: number;
  /** Longest server-side wait for a blocking query (Nomad caps it at 300 s). */
  waitMs?: number;
  signal?: AbortSignal;
}

export interface WriteOptions {
  signal?: AbortSignal;
}

/** A read's value and the `X-Nomad-Index` to pass as `index` to the next blocking read. */
export interface QueryResult<T> {
  value: T;
  index: number;
}

export interface Registration {
  /** "" for periodic jobs: Nomad creates no evaluation for them. */
  evalId: string;
  evalCreateIndex: number;
  jobModifyIndex: number;
  warnings: string[];
  index: number;
}

export class NomadClient {
  private readonly fetch: typeof fetch;
  private readonly base: string;

  constructor(
    private readonly config: NomadClientConfig,
    private readonly deps: NomadClientDeps,
  ) {
    this.fetch = config.tls ? createTlsFetch(config.tls) : deps.fetch;
    this.base = config.address.replace(/\/+$/, '');
  }

  /** `preserveCounts`: the groups already running keep their count (`nomad job run -preserve-counts`). */
  async register(job: NomadJob, opts: WriteOptions & { preserveCounts?: boolean } = {}): Promise<Registration> {
    const { value } = await this.call<NomadRegisterResponse>('register job', 'POST', '/v1/jobs', {
      body: { Job: job, ...(opts.preserveCounts ? { PreserveCounts: true } : {}) },
      signal: opts.signal,
    });
    return {
      evalId: value.EvalID,
      evalCreateIndex: value.EvalCreateIndex,
      jobModifyIndex: value.JobModifyIndex,
      warnings: splitWarnings(value.Warnings),
      index: value.Index,
    };
  }

  /** A dry run: what registering `job` would change, with Nomad's diff. */
  async plan(job: NomadJob, opts: WriteOptions = {}): Promise<NomadPlanResponse> {
    const path = `/v1/job/${encodeURIComponent(job.ID)}/plan`;
    const { value } = await this.call<NomadPlanResponse>('plan job', 'POST', path, {
      body: { Job: job, Diff: true },
      signal: opts.signal,
    });
    return value;
  }

  async deregister(jobId: string, opts: WriteOptions & { purge?: boolean } = {}): Promise<{ evalId: string }> {
    const { value } = await this.call<{ EvalID: string }>('deregister job', 'DELETE', `/v1/job/${enc(jobId)}`, {
      query: opts.purge ? { purge: 'true' } : {},
      signal: opts.signal,
    });
    return { evalId: value.EvalID };
  }

  readJob(jobId: string, q?: QueryOptions): Promise<QueryResult<NomadJob>> {
    return this.read('read job', `/v1/job/${enc(jobId)}`, q);
  }

  /** Jobs whose id starts with `prefix`: the children a periodic job launched (`<id>/periodic-`) or a dispatch made. */
  listJobs(prefix: string, q?: QueryOptions): Promise<QueryResult<NomadJobListStub[]>> {
    return this.read('list jobs', '/v1/jobs', q, { prefix });
  }

  /** Launches a periodic job now (`nomad job periodic force`); refused by Nomad while the job is disabled or stopped. */
  async forcePeriodic(jobId: string, opts: WriteOptions = {}): Promise<{ evalId: string; evalCreateIndex: number }> {
    const { value } = await this.call<NomadPeriodicForceResponse>('force periodic job', 'POST', `/v1/job/${enc(jobId)}/periodic/force`, { signal: opts.signal });
    return { evalId: value.EvalID, evalCreateIndex: value.EvalCreateIndex };
  }

  /** Dispatches a parameterized job with `payload` (at most 16 KiB) and `meta`; answers the child job's id. */
  async dispatch(jobId: string, req: { payload?: Uint8Array; meta?: Record<string, string> }, opts: WriteOptions = {}): Promise<{ dispatchedJobId: string; evalId: string }> {
    const body = { ...(req.payload?.byteLength ? { Payload: Buffer.from(req.payload).toString('base64') } : {}), ...(req.meta ? { Meta: req.meta } : {}) };
    const { value } = await this.call<NomadDispatchResponse>('dispatch job', 'POST', `/v1/job/${enc(jobId)}/dispatch`, { body, signal: opts.signal });
    return { dispatchedJobId: value.DispatchedJobID, evalId: value.EvalID };
  }

  /** Current allocations of the job (`all=false`: none from an earlier job with the same id). */
  jobAllocations(jobId: string, q?: QueryOptions): Promise<QueryResult<NomadAllocationStub[]>> {
    return this.read('list job allocations', `/v1/job/${enc(jobId)}/allocations`, q, { all: 'false' });
  }

  /** The job's most recent deployment, or null when it never had one. */
  latestDeployment(jobId: string, q?: QueryOptions): Promise<QueryResult<NomadDeployment | null>> {
    return this.read('read job deployment', `/v1/job/${enc(jobId)}/deployment`, q);
  }

  jobDeployments(jobId: string, q?: QueryOptions): Promise<QueryResult<NomadDeployment[]>> {
    return this.read('list job deployments', `/v1/job/${enc(jobId)}/deployments`, q);
  }

  readEvaluation(evalId: string, q?: QueryOptions): Promise<QueryResult<NomadEvaluation>> {
    return this.read('read evaluation', `/v1/evaluation/${enc(evalId)}`, q);
  }

  /** The deployment an evaluation created or joined, or null when the scheduler made none (unchanged job). */
  async evaluationDeployment(evalId: string, q?: QueryOptions): Promise<NomadDeployment | null> {
    const { value: evaluation } = await this.readEvaluation(evalId, { signal: q?.signal });
    if (!evaluation.DeploymentID) return null;
    return (await this.readDeployment(evaluation.DeploymentID, q)).value;
  }

  readDeployment(deploymentId: string, q?: QueryOptions): Promise<QueryResult<NomadDeployment>> {
    return this.read('read deployment', `/v1/deployment/${enc(deploymentId)}`, q);
  }

  deploymentAllocations(deploymentId: string, q?: QueryOptions): Promise<QueryResult<NomadAllocationStub[]>> {
    return this.read('list deployment allocations', `/v1/deployment/allocations/${enc(deploymentId)}`, q);
  }

  readAllocation(allocId: string, q?: QueryOptions): Promise<QueryResult<NomadAllocation>> {
    return this.read('read allocation', `/v1/allocation/${enc(allocId)}`, q);
  }

  /** Promote every canary of a deployment. */
  async promoteDeployment(deploymentId: string, opts: WriteOptions = {}): Promise<NomadDeploymentUpdateResponse> {
    const path = `/v1/deployment/promote/${enc(deploymentId)}`;
    const body = { DeploymentID: deploymentId, All: true };
    return (await this.call<NomadDeploymentUpdateResponse>('promote deployment', 'PUT', path, { body, ...opts })).value;
  }

  async failDeployment(deploymentId: string, opts: WriteOptions = {}): Promise<NomadDeploymentUpdateResponse> {
    const path = `/v1/deployment/fail/${enc(deploymentId)}`;
    const body = { DeploymentID: deploymentId };
    return (await this.call<NomadDeploymentUpdateResponse>('fail deployment', 'PUT', path, { body, ...opts })).value;
  }

  /**
   * Sets a task group's count (`nomad job scale`): Nomad records a new job version and evaluates it. The answer's
   * evalId can be followed like a registration's.
   */
  async scaleGroup(jobId: string, group: string, count: number, message: string, opts: WriteOptions = {}): Promise<Registration> {
    const body = { Count: count, Target: { Group: group }, Message: message, PolicyOverride: false };
    const { value } = await this.call<NomadRegisterResponse>('scale job', 'POST', `/v1/job/${enc(jobId)}/scale`, { body, signal: opts.signal });
    return { evalId: value.EvalID, evalCreateIndex: value.EvalCreateIndex, jobModifyIndex: value.JobModifyIndex, warnings: splitWarnings(value.Warnings), index: value.Index };
  }

  /** Restarts an allocation's running tasks in place, on its client node (`nomad alloc restart`). */
  async restartAllocation(allocId: string, opts: WriteOptions & { task?: string } = {}): Promise<void> {
    const body = opts.task ? { TaskName: opts.task } : {};
    await this.call<unknown>('restart allocation', 'POST', `/v1/client/allocation/${enc(allocId)}/restart`, { body, signal: opts.signal });
  }

  /**
   * A task's stdout or stderr as raw bytes (`plain=true`): from `offset` bytes after the start or before the end
   * of the log, and with `follow` what the task writes next, until `signal` aborts. Errors are UpstreamErrors.
   */
  async allocLogs(
    allocId: string,
    req: { task: string; type: 'stdout' | 'stderr'; follow: boolean; origin: 'start' | 'end'; offset: number; signal: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const url = new URL(`${this.base}/v1/client/fs/logs/${enc(allocId)}`);
    const query = { task: req.task, type: req.type, follow: String(req.follow), origin: req.origin, offset: String(req.offset), plain: 'true' };
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    if (this.config.namespace) url.searchParams.set('namespace', this.config.namespace);
    if (this.config.region) url.searchParams.set('region', this.config.region);
    const headers: Record<string, string> = this.config.token ? { 'X-Nomad-Token': this.config.token } : {};
    let res: Response;
    try {
      res = await this.fetch(url, { headers, signal: req.signal });
    } catch (err) {
      if (req.signal.aborted) throw req.signal.reason;
      throw noAnswerError('nomad', 'read allocation logs', this.base, err, 'is Nomad running? set NOMAD_ADDR');
    }
    if (res.status !== 200 || !res.body) {
      const text = await res.text().catch(() => '');
      throw new UpstreamError('nomad', 'read allocation logs', res.status, text || res.statusText);
    }
    return res.body;
  }

  /** The leader's RPC address; needs no ACL, so it is the cheap "is Nomad reachable" probe. */
  async leader(opts: WriteOptions = {}): Promise<string> {
    return (await this.call<string>('read leader', 'GET', '/v1/status/leader', opts)).value;
  }

  private read<T>(operation: string, path: string, q: QueryOptions = {}, extra: Record<string, string> = {}) {
    const query: Record<string, string> = { ...extra };
    if (q.index !== undefined && q.index > 0) {
      query.index = String(q.index);
      if (q.waitMs !== undefined) query.wait = `${Math.max(1, Math.round(q.waitMs))}ms`;
    }
    return this.call<T>(operation, 'GET', path, { query, signal: q.signal });
  }

  private async call<T>(
    operation: string,
    method: string,
    path: string,
    opts: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal },
  ): Promise<QueryResult<T>> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    if (this.config.namespace) url.searchParams.set('namespace', this.config.namespace);
    if (this.config.region) url.searchParams.set('region', this.config.region);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.config.token) headers['X-Nomad-Token'] = this.config.token;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';

    this.deps.log.debug({ method, path: url.pathname, query: url.search }, `nomad ${operation}`);
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw noAnswerError('nomad', operation, this.base, err, 'is Nomad running? set NOMAD_ADDR');
    }
    const text = await res.text();
    if (res.status !== 200) throw new UpstreamError('nomad', operation, res.status, text || res.statusText);
    const index = Number(res.headers.get('x-nomad-index') ?? 0);
    try {
      return { value: JSON.parse(text) as T, index: Number.isFinite(index) ? index : 0 };
    } catch (err) {
      throw new UpstreamError('nomad', operation, res.status, `invalid JSON in answer: ${text.slice(0, 200)}`, {
        cause: err,
      });
    }
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

/** Nomad joins warnings as a go-multierror text ("2 warnings:\n\n* a\n* b"); return the items. */
export function splitWarnings(text: string | null | undefined): string[] {
  if (!text?.trim()) return [];
  const items = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('* '))
    .map((line) => line.slice(2).trim());
  return items.length > 0 ? items : [text.trim()];
}
