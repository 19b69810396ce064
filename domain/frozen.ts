/**
 * Freezes a value and everything it holds. Cached answers are frozen: they are shared by every
 * request that reads them, and the HTTP layer keeps the JSON of every frozen part
 * (api/http/serialize.ts), so a new version that shares parts with the previous one is serialised
 * by its changes alone.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const nested of Object.values(value)) deepFreeze(nested);
  }
  return value;
}

/** An answer read through a cache, with a tag that changes whenever the answer does (an ETag). */
export type TaggedRead<T> = { value: T; tag: string };
