import type { Logger } from './ports.js';

/** How often one kind of trouble is logged at most, while it lasts. */
export const THROTTLE_MS = 5_000;

const seenByLogger = new WeakMap<Logger, Map<string, { lastAt: number; held: number }>>();

/**
 * A warning that would repeat on every request or reconnect while a store is down (hundreds a
 * second): the first of its kind is logged at once, then at most one per THROTTLE_MS, carrying how
 * many were held back since.
 */
export function warnThrottled(log: Logger, kind: string, fields: object, message: string): void {
  let seen = seenByLogger.get(log);
  if (!seen) seenByLogger.set(log, (seen = new Map()));
  const now = Date.now();
  const last = seen.get(kind);
  if (last && now - last.lastAt < THROTTLE_MS) {
    last.held += 1;
    return;
  }
  log.warn({ ...fields, kind, ...(last && last.held > 0 ? { heldBack: last.held } : {}) }, message);
  seen.set(kind, { lastAt: now, held: 0 });
}
