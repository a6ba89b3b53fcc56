// Consul's health API: the instances of a service whose checks pass. GET /v1/health/service/<name>?passing with
// the ACL token as X-Consul-Token (never logged). Which instance to route to is the caller's choice.
import { noAnswerError, UpstreamError } from '../../errors.js';

export interface ConsulConfig {
  /** CONSUL_HTTP_ADDR, e.g. 127.0.0.1:8500 or https://consul:8501 (no scheme: http). */
  readonly address: string;
  /** CONSUL_HTTP_TOKEN. */
  readonly token?: string;
}

export interface ConsulHealthEntry {
  Node?: { Node?: string; Address?: string };
  Service?: { ID?: string; Address?: string; Port?: number };
  Checks?: { Status?: string }[];
}

export class ConsulClient {
  readonly baseUrl: string;

  constructor(
    private readonly config: ConsulConfig,
    private readonly deps: { fetch: typeof fetch },
  ) {
    this.baseUrl = (config.address.includes('://') ? config.address : `http://${config.address}`).replace(/\/+$/, '');
  }

  /** Every entry Consul lists for `service` (all checks passing), and how many it listed in all. */
  async passingInstances(service: string, signal: AbortSignal): Promise<{ passing: ConsulHealthEntry[]; listed: number }> {
    const url = `${this.baseUrl}/v1/health/service/${encodeURIComponent(service)}?passing=true`;
    let res: Response;
    try {
      res = await this.deps.fetch(url, { headers: this.config.token ? { 'X-Consul-Token': this.config.token } : {}, signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw noAnswerError('consul', 'list healthy instances', this.baseUrl, err, 'is the Consul agent running? set CONSUL_HTTP_ADDR');
    }
    const body = await res.text();
    if (!res.ok) throw new UpstreamError('consul', 'list healthy instances', res.status, body || res.statusText);
    const entries = JSON.parse(body) as ConsulHealthEntry[];
    // `?passing` already filters; filtering too keeps the choice right if a proxy or an old agent ignores it.
    return { passing: entries.filter((e) => (e.Checks ?? []).every((c) => c.Status === 'passing')), listed: entries.length };
  }
}
