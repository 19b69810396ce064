/**
 * A small in-process cache whose entries live `ttlMs`. Concurrent misses for one key share a
 * single load, so a burst of requests for one showing costs one query.
 */
export function ttlCache<K, V>(ttlMs: number, load: (key: K) => Promise<V>, maxEntries = 10_000) {
  const entries = new Map<K, { value: Promise<V>; expires: number }>();
  return {
    get(key: K): Promise<V> {
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && hit.expires > now) return hit.value;
      if (entries.size >= maxEntries) entries.clear();
      const value = load(key);
      entries.set(key, { value, expires: now + ttlMs });
      value.catch(() => entries.delete(key));
      return value;
    },
    forget: (key: K) => entries.delete(key),
  };
}
