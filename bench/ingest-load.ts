// Drives one ingest target with autocannon at a fixed number of connections for a fixed time. Every request
// carries a fresh X-GitHub-Delivery (`<prefix><n>`) so the receiver records each one rather than answering it as
// a duplicate; the body and its signature stay the same (the signature covers the body only). Latency is timed
// here per request, from the write to the end of the answer, and kept exactly.
import autocannon from 'autocannon';

export interface LoadInput {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Delivery ids are this prefix plus a counter. */
  readonly idPrefix: string;
}

export interface LoadResult {
  /** Requests written. */
  readonly sent: number;
  /** Answers by status code. */
  readonly statuses: ReadonlyMap<number, number>;
  /** Delivery ids answered 2xx. */
  readonly okIds: readonly string[];
  /** Milliseconds per 2xx answer. */
  readonly latencies: readonly number[];
  readonly elapsedS: number;
  readonly errors: number;
}

interface Slot {
  id?: string;
  t0?: number;
}

export async function runLoad(input: LoadInput): Promise<LoadResult> {
  let sent = 0;
  const statuses = new Map<number, number>();
  const okIds: string[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  // autocannon calls setupRequest right before writing each request and onResponse when its answer is complete;
  // with one request in flight per connection, the connection's context holds that request's id and start time.
  const result = await autocannon({
    url: input.url,
    connections: input.connections,
    pipelining: 1,
    duration: input.durationS,
    method: 'POST',
    requests: [
      {
        setupRequest(req, context) {
          const slot = context as Slot;
          slot.id = `${input.idPrefix}${++sent}`;
          slot.t0 = performance.now();
          return { ...req, method: 'POST', body: input.body, headers: { ...input.headers, 'x-github-delivery': slot.id } };
        },
        onResponse(status, _body, context) {
          const slot = context as Slot;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 200 && status < 300 && slot.id !== undefined && slot.t0 !== undefined) {
            okIds.push(slot.id);
            latencies.push(performance.now() - slot.t0);
          }
        },
      },
    ],
  });
  return { sent, statuses, okIds, latencies, elapsedS: (performance.now() - started) / 1000, errors: result.errors + result.timeouts };
}
