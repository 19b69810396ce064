/** `expires`: a read from then on starts a reload; `staleUntil`: a read from then on waits for a fresh load. */
type Entry<V> = { value: Promise<V>; expires: number; staleUntil: number; refreshing: boolean };

type Options = { maxEntries?: number; now?: () => number; random?: () => number };

/**
 * A small in-process cache whose entries live about `ttlMs`. Concurrent misses for one key share a
 * single load, so a burst of requests for one showing costs one query.
 *
 * An entry expired less than half a lifetime ago is still served while one reload replaces it: a
 * key in steady use never makes a request wait for a refresh. An older one is loaded again first, so
 * a key read rarely is never answered from data much older than its lifetime. Lifetimes are spread
 * over ±25 % of `ttlMs`, so entries loaded together (every hall in the first seconds of a process)
 * do not all expire in the same instant. Without both, the 300 halls loaded in a benchmark's warm-up
 * expired together 60 s later, and the step of the run under way then (4,250 orders/s) answered at
 * p99 550-690 ms where the steps around it stayed at 82-178 ms.
 */
export function ttlCache<K, V>(ttlMs: number, load: (key: K) => Promise<V>, options: Options = {}) {
  const { maxEntries = 10_000, now = Date.now, random = Math.random } = options;
  const entries = new Map<K, Entry<V>>();
  // After a failed reload the stale value is served a little longer before the next attempt.
  const retryDelayMs = Math.min(1_000, ttlMs / 10);

  const fill = (key: K, value: Promise<V>) => {
    const expires = now() + ttlMs * (0.75 + random() / 2);
    const entry: Entry<V> = { value, expires, staleUntil: expires + ttlMs / 2, refreshing: false };
    entries.set(key, entry);
    value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry;
  };

  const refresh = (key: K, stale: Entry<V>) => {
    stale.refreshing = true;
    load(key).then(
      (value) => {
        if (entries.get(key) === stale) fill(key, Promise.resolve(value));
      },
      () => {
        stale.refreshing = false;
        stale.expires = now() + retryDelayMs;
      },
    );
  };

  return {
    get(key: K): Promise<V> {
      const hit = entries.get(key);
      const at = now();
      if (hit && at < hit.staleUntil) {
        if (at >= hit.expires && !hit.refreshing) refresh(key, hit);
        return hit.value;
      }
      if (!hit && entries.size >= maxEntries) entries.clear();
      return fill(key, load(key)).value;
    },
    forget: (key: K) => entries.delete(key),
  };
}
