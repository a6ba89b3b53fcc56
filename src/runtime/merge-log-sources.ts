// Many instances' log streams read as one: lines come out in the order they arrive from any instance, a slow
// reader slows every source (each source is pulled only when the reader asks), and when the reader stops (the
// HTTP client went away) every source is closed, so no engine or Nomad stream stays open behind it.
export async function* mergeLogSources<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number) => iterators[i]!.next().then((result) => ({ i, result }));
  const waiting = new Map<number, Promise<{ i: number; result: IteratorResult<T> }>>(iterators.map((_, i) => [i, next(i)]));
  try {
    while (waiting.size > 0) {
      const { i, result } = await Promise.race(waiting.values());
      if (result.done) {
        waiting.delete(i);
        continue;
      }
      waiting.set(i, next(i));
      yield result.value;
    }
  } finally {
    // A source still waiting for its next line is not awaited here: it closes its stream on the request's abort
    // signal, and awaiting it could wait for a line that never comes. Its late answer must not go unhandled.
    for (const pending of waiting.values()) pending.catch(() => undefined);
    for (const it of iterators) void it.return?.()?.catch(() => undefined);
  }
}
