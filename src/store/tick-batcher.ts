// Gathers work that arrives in the same turn of the event loop and hands it to `flush` as one batch: the requests
// whose bodies complete in one I/O phase share one database round trip or commit. One flush runs at a time; work
// arriving meanwhile waits for the next. Each caller gets its own outcome, so one failed item fails alone when
// `flush` can tell them apart.
export type BatchOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly err: unknown };

interface Pending<T, R> {
  readonly item: T;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export class TickBatcher<T, R> {
  private pending: Pending<T, R>[] = [];
  private scheduled = false;

  constructor(
    /** Returns one outcome per item, in order; throwing fails the whole batch. */
    private readonly flush: (items: readonly T[]) => Promise<readonly BatchOutcome<R>[]>,
    /** Most items in one batch; the rest wait for the next. */
    private readonly maxBatch = 256,
  ) {}

  run(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the current I/O phase: every request whose body completed in it joins this batch.
        setImmediate(() => void this.flushNext());
      }
    });
  }

  private async flushNext(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    try {
      const outcomes = await this.flush(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const o = outcomes[i];
        if (o?.ok) p.resolve(o.value);
        else p.reject(o ? o.err : new Error('the batch gave no outcome for this item'));
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      if (this.pending.length > 0) setImmediate(() => void this.flushNext());
      else this.scheduled = false;
    }
  }
}
