/**
 * Collects calls made within a short window and serves them with one call of `flush`, which
 * returns one result per item, in order. Under load this turns N round trips into one; when
 * idle the window costs at most `windowMs` of latency. With `maxInFlight`, a window that closes
 * while that many flushes are under way waits for one of them to end and then takes everything
 * that arrived meanwhile: the busier the flushes, the bigger the batches, instead of more flushes
 * competing for the same database.
 */
export function createBatcher<T, R>(
  flush: (items: T[]) => Promise<R[]>,
  {
    windowMs,
    maxSize,
    maxInFlight = Number.POSITIVE_INFINITY,
  }: { windowMs: number; maxSize: number; maxInFlight?: number },
) {
  let pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  /** The window closed while the flushes were at their limit. */
  let due = false;
  const inFlight = new Set<Promise<void>>();

  const run = () => {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight.size >= maxInFlight) {
      due = true;
      return;
    }
    const batch = pending.slice(0, maxSize);
    pending = pending.slice(maxSize);
    // What is left waited its window already: it goes as soon as a flush ends.
    due = pending.length > 0;
    const done = flush(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
    inFlight.add(done);
    void done.finally(() => {
      inFlight.delete(done);
      if (due) run();
    });
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
      while (pending.length > 0 || inFlight.size > 0) {
        if (pending.length > 0 && inFlight.size < maxInFlight) run();
        await Promise.race(inFlight);
      }
    },
  };
}
