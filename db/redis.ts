import { Redis } from 'ioredis';

/** maxRetriesPerRequest: null is what BullMQ needs; commands wait for a reconnect instead of failing. */
export function connectRedis(url: string, options: { forQueues?: boolean } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: options.forQueues ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}
