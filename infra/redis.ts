import { Redis } from 'ioredis';
import type { Logger } from '../domain/ports.js';
import { warnThrottled } from '../domain/throttled-log.js';

/**
 * maxRetriesPerRequest: null is what BullMQ needs; commands wait for a reconnect instead of failing.
 * resp2: ioredis 6 speaks RESP3 by default, and the Socket.IO Redis adapter's pub/sub expects RESP2
 * replies (its documented workaround).
 */
export function connectRedis(url: string, log: Logger, options: { forQueues?: boolean; resp2?: boolean } = {}): Redis {
  return reportingErrors(
    new Redis(url, {
      ...(options.resp2 ? { protocol: 2 as const } : {}),
      maxRetriesPerRequest: options.forQueues ? null : 3,
      enableReadyCheck: true,
      lazyConnect: false,
    }),
    log,
  );
}

/**
 * A connection reports every failed reconnect as an error event (ioredis prints a stack trace for
 * each one nobody listens to): while Redis is away, one structured line per few seconds says so.
 * Give each `duplicate()` to it too: listeners are not copied.
 */
export function reportingErrors(redis: Redis, log: Logger): Redis {
  return redis.on('error', (error: Error) =>
    warnThrottled(log, 'redis', { reason: error.message }, 'Redis unavailable; reconnecting'),
  );
}

/** Resolves when Redis answers a PING; rejects at once (no reconnecting) when it cannot be reached. */
export async function pingRedisOnce(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3_000,
  });
  // ioredis rejects with "Connection is closed."; the socket's own error says why.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw cause ?? error;
  } finally {
    redis.disconnect();
  }
}
