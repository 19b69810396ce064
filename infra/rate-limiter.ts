import { once } from 'node:events';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger, RateCounter } from '../domain/ports.js';
import { reportingErrors } from './redis.js';

/** How long one count may take before the request goes on without it (fail open). */
const COMMAND_TIMEOUT_MS = 500;

export type RateLimitSettings = {
  redisUrl: string;
  redisPrefix: string;
  /** Name → requests per minute; 0 is no counter at all. */
  perMinute: Record<string, number>;
};

/**
 * rate-limiter-flexible's Redis limiter over a connection of its own: one atomic Lua script per hit
 * (SET NX with the window's expiry, INCRBY, PTTL), under `<REDIS_PREFIX>:rate-limit:<name>:`. Its
 * window starts at a key's first hit. A key found over its limit is refused from memory until the
 * window ends (inMemoryBlockOnConsumed): an abusive client costs Redis nothing more, and since only a
 * key Redis already counted past the limit is blocked, the instances together still admit exactly the
 * limit. The connection keeps no offline queue and times commands out: while Redis is away a hit
 * rejects at once rather than holding the request, and the caller lets it through.
 */
export function createSharedCounters(
  settings: RateLimitSettings,
  log: Logger,
): { counters: Record<string, RateCounter>; ready(): Promise<void>; close(): Promise<void> } {
  const redis = reportingErrors(
    new Redis(settings.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // Every request counts once or twice: the hits of one tick go out in one write.
      enableAutoPipelining: true,
    }),
    log,
  );
  const counters: Record<string, RateCounter> = {};
  for (const [name, limit] of Object.entries(settings.perMinute)) {
    if (limit <= 0) continue;
    const limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${settings.redisPrefix}:rate-limit:${name}`,
      points: limit,
      duration: 60,
      inMemoryBlockOnConsumed: limit,
      rejectIfRedisNotReady: true,
    });
    counters[name] = {
      limit,
      windowSeconds: 60,
      hit: (key) =>
        limiter.consume(key).then(
          (res) => ({ allowed: true, retryAfterMs: res.msBeforeNext }),
          (refusal: unknown) => {
            if (refusal instanceof RateLimiterRes) return { allowed: false, retryAfterMs: refusal.msBeforeNext };
            throw refusal;
          },
        ),
    };
  }
  return {
    counters,
    ready: async () => {
      if (redis.status !== 'ready') await once(redis, 'ready');
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
