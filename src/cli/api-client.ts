// The CLI's only way into the service: its HTTP API (NORN_URL, bearer NORN_API_TOKEN). An answer that is not 2xx
// becomes an ApiError carrying the API's own `error` message, so commands print that and never a stack trace.
import { readApiTokenFile } from '../config/api-token-file.js';

export const DEFAULT_URL = 'http://127.0.0.1:8800';

/** The API refused a request (status = HTTP status) or could not be reached (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The receiver's advice on what to do (its `hint`), when it gave one. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientConfig {
  readonly baseUrl: string;
  readonly token?: string;
}

export class ApiClient {
  readonly baseUrl: string;

  constructor(
    private readonly config: ApiClientConfig,
    private readonly deps: { fetch: typeof fetch } = { fetch },
  ) {
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
  }

  /**
   * NORN_URL (default http://127.0.0.1:8800) and NORN_API_TOKEN. Without NORN_API_TOKEN, a receiver on this machine
   * (NORN_URL on loopback) is asked with the token it generated into its data dir (NORN_DATA_DIR, default ./data);
   * that token is never sent to another host.
   */
  static fromEnv(env: Readonly<Record<string, string | undefined>>, deps?: { fetch: typeof fetch }): ApiClient {
    const baseUrl = env.NORN_URL?.trim() || DEFAULT_URL;
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new ApiError(0, `NORN_URL is not a URL: ${baseUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError(0, `NORN_URL must be an http(s) URL: ${baseUrl}`);
    const token = env.NORN_API_TOKEN?.trim() || (isLoopback(url.hostname) ? readApiTokenFile(env) : undefined);
    return new ApiClient({ baseUrl, token }, deps);
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const suffix = qs.size > 0 ? `?${qs}` : '';
    return this.request<T>('GET', `${path}${suffix}`);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** A GET answered with a file: the response, for the caller to stream; a refusal throws as for JSON requests. */
  async download(path: string): Promise<Response> {
    let res: Response;
    try {
      res = await this.deps.fetch(`${this.baseUrl}${path}`, { method: 'GET', headers: { accept: 'application/octet-stream, application/json', ...this.authHeaders() } });
    } catch {
      throw this.unreachable();
    }
    if (!res.ok) throw await this.refusal('GET', path, res);
    return res;
  }

  /** POSTs a file's bytes (`application/octet-stream`) and answers the JSON reply, as `post` does. */
  async upload<T>(path: string, body: ReadableStream<Uint8Array>, length: number): Promise<T> {
    let res: Response;
    try {
      res = await this.deps.fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { accept: 'application/json', ...this.authHeaders(), 'content-type': 'application/octet-stream', 'content-length': String(length) },
        body,
        duplex: 'half',
      } as RequestInit);
    } catch {
      throw this.unreachable();
    }
    if (!res.ok) throw await this.refusal('POST', path, res);
    return (await res.json()) as T;
  }

  private async refusal(method: string, path: string, res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let json: { error?: unknown; hint?: unknown } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // Not JSON: the status line says it.
    }
    return new ApiError(res.status, typeof json.error === 'string' ? json.error : `${method} ${path} failed (${res.status} ${res.statusText})`, typeof json.hint === 'string' ? json.hint : undefined);
  }

  /**
   * A streamed GET (`norn logs -f`): the answer's body as it arrives. A refusal (not 2xx) is an ApiError with the
   * API's own message, like every other call.
   */
  async stream(path: string, query: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    let res: Response;
    try {
      res = await this.deps.fetch(`${this.baseUrl}${path}${qs.size > 0 ? `?${qs}` : ''}`, { headers: { accept: 'application/x-ndjson', ...this.authHeaders() }, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw this.unreachable();
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let answer: { error?: unknown; hint?: unknown } = {};
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        // not JSON: the status says it
      }
      throw new ApiError(res.status, typeof answer.error === 'string' ? answer.error : `GET ${path} failed (${res.status} ${res.statusText})`, typeof answer.hint === 'string' ? answer.hint : undefined);
    }
    return res.body;
  }

  /** Headers for the WebSocket upgrade (the same bearer token as the API). */
  authHeaders(): Record<string, string> {
    return this.config.token ? { authorization: `Bearer ${this.config.token}` } : {};
  }

  /** The `/ws` URL with `query`, on the same host as the API. */
  liveUrl(query: Record<string, string | number | undefined>): string {
    const url = new URL(`${this.baseUrl}/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  unreachable(): ApiError {
    return new ApiError(0, `cannot reach the receiver at ${this.baseUrl}: is \`norn serve\` running?`);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.deps.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { accept: 'application/json', ...this.authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw this.unreachable();
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ApiError(res.status, `${method} ${path}: the receiver answered ${res.status} with something that is not JSON`);
    }
    if (!res.ok) {
      const { error: message, hint } = json as { error?: unknown; hint?: unknown };
      throw new ApiError(
        res.status,
        typeof message === 'string' ? message : `${method} ${path} failed (${res.status} ${res.statusText})`,
        typeof hint === 'string' ? hint : undefined,
      );
    }
    return json as T;
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
