import { Redis } from 'ioredis';

/**
 * maxRetriesPerRequest: null is what BullMQ needs; commands wait for a reconnect instead of failing.
 * resp2: ioredis 6 speaks RESP3 by default, and the Socket.IO Redis adapter's pub/sub expects RESP2
 * replies (its documented workaround).
 */
export function connectRedis(url: string, options: { forQueues?: boolean; resp2?: boolean } = {}): Redis {
  return new Redis(url, {
    ...(options.resp2 ? { protocol: 2 as const } : {}),
    maxRetriesPerRequest: options.forQueues ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
