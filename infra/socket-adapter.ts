import { createAdapter } from '@socket.io/redis-adapter';
import type { Logger } from '../domain/ports.js';
import { connectRedis, reportingErrors } from './redis.js';

/**
 * The Socket.IO Redis adapter that links realtime instances, on its own pair of connections (RESP2:
 * the adapter's pub/sub expects RESP2 replies, its documented workaround for ioredis 6).
 */
export function createSocketAdapter(redisUrl: string, prefix: string, log: Logger) {
  const publisher = connectRedis(redisUrl, log, { resp2: true });
  const subscriber = reportingErrors(publisher.duplicate(), log);
  return {
    adapter: createAdapter(publisher, subscriber, { key: `${prefix}:socket.io` }),
    close: async () => {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
