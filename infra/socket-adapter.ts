import { createAdapter } from '@socket.io/redis-adapter';
import { connectRedis } from './redis.js';

/**
 * The Socket.IO Redis adapter that links realtime instances, on its own pair of connections (RESP2:
 * the adapter's pub/sub expects RESP2 replies, its documented workaround for ioredis 6).
 */
export function createSocketAdapter(redisUrl: string, prefix: string) {
  const publisher = connectRedis(redisUrl, { resp2: true });
  const subscriber = publisher.duplicate();
  return {
    adapter: createAdapter(publisher, subscriber, { key: `${prefix}:socket.io` }),
    close: async () => {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
