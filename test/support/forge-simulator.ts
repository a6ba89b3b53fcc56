// A test double of the forges' commit-status endpoints (not a forge): GitHub's
// `POST /repos/:owner/:repo/statuses/:sha`, Gitea/Forgejo's `POST /api/v1/repos/:owner/:repo/statuses/:sha` and
// GitLab's `POST /api/v4/projects/:id/statuses/:sha`, on 127.0.0.1 with a random port. It validates as the docs
// say (GitHub: state error|failure|pending|success, description at most 140 characters, at most 1000 statuses per
// sha and context, 422 "Validation Failed" otherwise; Gitea: state pending|success|error|failure|warning, 422 on
// a bad body; GitLab: state pending|running|success|failed|canceled, `name` for the context, 400 when a context
// is set to the state it already has), checks the token, records what it accepted and can be told to misbehave.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SimForge = 'github' | 'gitea' | 'gitlab';

export interface ReceivedStatus {
  readonly forge: SimForge;
  /** owner/name (GitLab: the decoded project path). */
  readonly repo: string;
  readonly sha: string;
  readonly state: string;
  readonly description: string;
  readonly context: string;
  readonly targetUrl: string | undefined;
}

export interface SimRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number | 'dropped';
  /** The credential the request carried, so tests can check what a client sent (and where). */
  readonly credential: string | undefined;
  /** Date.now() when it was answered. */
  readonly at: number;
}

export type Fault =
  | { readonly kind: 'server-error'; readonly status?: number }
  | { readonly kind: 'rate-limit-403'; readonly resetInSeconds: number }
  | { readonly kind: 'too-many-requests'; readonly retryAfterSeconds: number }
  | { readonly kind: 'drop-connection' };

const STATES: Record<SimForge, readonly string[]> = {
  github: ['error', 'failure', 'pending', 'success'],
  gitea: ['pending', 'success', 'error', 'failure', 'warning'],
  gitlab: ['pending', 'running', 'success', 'failed', 'canceled'],
};

export class ForgeSimulator {
  /** Statuses accepted, in order. */
  readonly received: ReceivedStatus[] = [];
  /** Every request answered (or dropped), in order. */
  readonly requests: SimRequest[] = [];
  private readonly faults: Fault[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly options: { token: string; repos?: readonly string[] },
  ) {}

  /** `repos`, when given, are the only repositories that exist; others answer 404. */
  static async start(options: { token: string; repos?: readonly string[] }): Promise<ForgeSimulator> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sim = new ForgeSimulator(server, `http://127.0.0.1:${port}`, options);
    // A client that gave up mid-request makes reading the body fail; that is the client's business, not a crash.
    server.on('request', (req, res) => void sim.handle(req, res).catch(() => res.destroy()));
    return sim;
  }

  /** The next `count` status requests meet `fault` instead of an answer. */
  failNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  /** Drops the faults not yet used: the forge is well again. */
  heal(): void {
    this.faults.length = 0;
  }

  statusesFor(sha: string, context?: string): ReceivedStatus[] {
    return this.received.filter((s) => s.sha === sha && (context === undefined || s.context === context));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routeOf(req.method ?? 'GET', path);
    const credential = credentialOf(req, route?.forge);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path, status, credential, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (!route) return answer(404, { message: 'Not Found' });
    const fault = this.faults.shift();
    if (fault) return this.misbehave(fault, req, res, answer, credential, path);
    if (credential !== this.options.token) return answer(401, { message: route.forge === 'gitlab' ? '401 Unauthorized' : 'Bad credentials' });
    if (this.options.repos && !this.options.repos.includes(route.repo)) return answer(404, { message: 'Not Found' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return answer(400, { message: 'Problems parsing JSON' });
    }
    const status = {
      forge: route.forge,
      repo: route.repo,
      sha: route.sha,
      state: String(body.state ?? ''),
      description: typeof body.description === 'string' ? body.description : '',
      context: String((route.forge === 'gitlab' ? body.name : body.context) ?? 'default'),
      targetUrl: typeof body.target_url === 'string' ? body.target_url : undefined,
    };
    const invalid = this.validate(status);
    if (invalid) return answer(invalid.status, invalid.body);
    this.received.push(status);
    answer(201, { id: this.received.length, state: status.state, description: status.description, context: status.context, target_url: status.targetUrl ?? null }, {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    });
  }

  private validate(s: ReceivedStatus): { status: number; body: unknown } | undefined {
    const failed = (field: string, message: string) => ({
      status: 422,
      body: { message: 'Validation Failed', errors: [{ resource: 'Status', field, code: 'custom', message }] },
    });
    if (!/^[0-9a-f]{7,64}$/.test(s.sha)) return failed('sha', `No commit found for SHA: ${s.sha}`);
    if (!STATES[s.forge].includes(s.state)) {
      return s.forge === 'gitlab' ? { status: 400, body: { error: 'state does not have a valid value' } } : failed('state', `state is not included in the list`);
    }
    if (s.forge === 'github' && Array.from(s.description).length > 140) return failed('description', 'description is too long (maximum is 140 characters)');
    if (s.forge === 'github' && this.statusesFor(s.sha, s.context).length >= 1000) return failed('context', 'This SHA and context has reached the maximum number of statuses.');
    if (s.forge === 'gitlab') {
      const current = this.received.filter((r) => r.forge === 'gitlab' && r.sha === s.sha && r.context === s.context).at(-1);
      if (current?.state === s.state) {
        const verb = s.state === 'running' ? 'run' : s.state === 'pending' ? 'enqueue' : s.state;
        return { status: 400, body: { message: `Cannot transition status via :${verb} from :${current.state}` } };
      }
    }
    return undefined;
  }

  private misbehave(
    fault: Fault,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    answer: (status: number, body: unknown, headers?: Record<string, string>) => void,
    credential: string | undefined,
    path: string,
  ): void {
    switch (fault.kind) {
      case 'server-error':
        return answer(fault.status ?? 502, { message: 'Server Error' });
      case 'rate-limit-403':
        return answer(403, { message: 'API rate limit exceeded for user.' }, {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + fault.resetInSeconds),
        });
      case 'too-many-requests':
        return answer(429, { message: 'Too Many Requests' }, { 'retry-after': String(fault.retryAfterSeconds) });
      case 'drop-connection':
        this.requests.push({ method: req.method ?? '', path, status: 'dropped', credential, at: Date.now() });
        req.socket.destroy();
        return void res;
    }
  }
}

function routeOf(method: string, path: string): { forge: SimForge; repo: string; sha: string } | undefined {
  if (method !== 'POST') return undefined;
  let m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/.exec(path);
  if (m) return { forge: 'gitea', repo: `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`, sha: m[3]! };
  m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([^/]+)$/.exec(path);
  if (m) return { forge: 'gitlab', repo: decodeURIComponent(m[1]!), sha: m[2]! };
  m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/.exec(path);
  if (m) return { forge: 'github', repo: `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`, sha: m[3]! };
  return undefined;
}

/** GitHub and Gitea take `token X` or `Bearer X`; GitLab a PRIVATE-TOKEN header. */
function credentialOf(req: http.IncomingMessage, forge: SimForge | undefined): string | undefined {
  if (forge === 'gitlab') return req.headers['private-token'] as string | undefined;
  const auth = req.headers.authorization;
  return auth ? /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1] : undefined;
}
