/**
 * Collects calls made within a short window and serves them with one call of `flush`, which
 * returns one result per item, in order. Under load this turns N round trips into one; when
 * idle the window costs at most `windowMs` of latency.
 */
export function createBatcher<T, R>(flush: (items: T[]) => Promise<R[]>, { windowMs, maxSize }: { windowMs: number; maxSize: number }) {
  let pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  const run = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    const done = flush(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  return {
    add(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (pending.length >= maxSize) run();
        else timer ??= setTimeout(run, windowMs);
      });
    },
    /** Flushes what is waiting and waits for every flush under way. */
    async drain(): Promise<void> {
      if (pending.length > 0) run();
      await Promise.all(inFlight);
    },
  };
}
