// One bound on the bytes held by all webhook bodies being read at once (NORN_WEBHOOK_BUFFER_BYTES), on top of the
// per-body cap: without it, 200 senders that each declare 5 MB and send slowly hold a gigabyte until they finish.
// A request reserves its declared Content-Length before reading (a chunked one, each chunk as it comes) and gives
// it all back when its handler is done; one that does not fit is answered 503 with Retry-After, unread.

export class BodyBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes reserved by requests in flight. */
  get inUse(): number {
    return this.used;
  }

  /** A reservation for one request; release it when the request's body is no longer held. */
  hold(): BodyHold {
    let held = 0;
    return {
      reserve: (bytes) => {
        if (this.used + bytes > this.limitBytes) return false;
        this.used += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        this.used -= held;
        held = 0;
      },
    };
  }
}

export interface BodyHold {
  /** Takes `bytes` more from the budget; false, taking nothing, when they do not fit. */
  reserve(bytes: number): boolean;
  release(): void;
}
