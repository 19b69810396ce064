import type { RateLimits } from '../api/http/rate-limits.js';
import { connectDatabase } from '../db/connection.js';
import { pingDatabase } from '../db/health.js';
import { createVersionProbe } from '../domain/catalog/read-versions.js';
import { createSchedules } from '../domain/catalog/schedule-reads.js';
import type { Deps } from '../domain/context.js';
import { createOrderInserts } from '../domain/orders/order-inserts.js';
import { createOrderViews } from '../domain/orders/order-view-reads.js';
import { createSaleCatalog } from '../domain/orders/sale-catalog.js';
import { createSeatMaps } from '../domain/orders/seat-map-reads.js';
import type { Logger } from '../domain/ports.js';
import { warnThrottled } from '../domain/throttled-log.js';
import { createBatcher } from '../infra/batcher.js';
import { createJobQueues } from '../infra/job-queues.js';
import { createMetrics, type ProcessMetrics } from '../infra/metrics.js';
import { createSharedCounters } from '../infra/rate-limiter.js';
import { readinessProbe } from '../infra/readiness.js';
import { connectRedis } from '../infra/redis.js';
import { createSaleEvents } from '../infra/sale-events.js';
import { ttlCache } from '../infra/ttl-cache.js';
import type { ProcessConfig } from './config.js';

/** Everything a process's use cases run on, how the load balancer asks whether it is ready, and how it closes. */
export type Wiring = {
  deps: Deps;
  readiness: ReturnType<typeof readinessProbe>;
  /** The process's metrics: what the host plugs in to be read on each scrape, and GET /metrics. */
  metrics: ProcessMetrics;
  /** The job queues, for the queue dashboard. */
  queues: ReturnType<typeof createJobQueues>['queues'];
  /** The rate limits the HTTP surface enforces (RATE_LIMIT_*; none when every one is 0). */
  rateLimits: RateLimits;
  close: () => Promise<void>;
};

/** Builds the dependencies of one process: connections, queues, pub/sub, the intake's caches and batched inserts. */
export function createDeps(config: ProcessConfig, log: Logger, poolMax = config.DB_POOL_MAX): Wiring {
  const db = connectDatabase(config.DATABASE_URL, poolMax, {
    onTrouble: (reason) => warnThrottled(log, 'postgres', { reason }, 'PostgreSQL unavailable'),
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  const redis = connectRedis(config.REDIS_URL, log);
  const jobs = createJobQueues(
    { redisUrl: config.REDIS_URL, redisPrefix: config.REDIS_PREFIX, partitions: config.ALLOCATION_PARTITIONS },
    connectRedis(config.REDIS_URL, log, { forQueues: true }),
    log,
  );
  const events = createSaleEvents(redis, config.REDIS_PREFIX, log);
  const orderInserts = createOrderInserts({ db, jobs, events, config, log }, createBatcher);
  const versions = createVersionProbe(db, createBatcher);
  const metrics = createMetrics({ enabled: config.METRICS, roles: config.ROLES }, log);
  const limits = rateLimitsOf(config, log);
  const deps: Deps = {
    db,
    config,
    log,
    metrics,
    jobs,
    events,
    saleCatalog: createSaleCatalog(db, ttlCache),
    orderInserts,
    seatMaps: createSeatMaps(db, versions, events),
    schedules: createSchedules(db, versions),
    orderViews: createOrderViews(db, events, createBatcher),
  };
  return {
    deps,
    readiness: readinessProbe({ database: () => pingDatabase(db), redis: () => redis.ping() }),
    metrics,
    queues: jobs.queues,
    rateLimits: limits.rateLimits,
    /** Finishes pending inserts, then closes every connection the process opened. */
    close: async () => {
      await Promise.all([orderInserts.drain(), versions.drain(), deps.orderViews.drain()]);
      await events.close();
      await jobs.close();
      await Promise.allSettled([db.destroy(), redis.quit(), limits.close()]);
    },
  };
}

/** The rate limits' counters, on a Redis connection of their own when any limit is on. */
function rateLimitsOf(config: ProcessConfig, log: Logger): { rateLimits: RateLimits; close(): Promise<void> } {
  const perMinute = {
    ip: config.RATE_LIMIT_PER_IP_PER_MINUTE,
    'orders-ip': config.RATE_LIMIT_ORDERS_PER_IP_PER_MINUTE,
    'orders-email': config.RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE,
  };
  if (Object.values(perMinute).every((limit) => limit === 0)) return { rateLimits: {}, close: async () => {} };
  const { counters, close } = createSharedCounters(
    { redisUrl: config.REDIS_URL, redisPrefix: config.REDIS_PREFIX, perMinute },
    log,
  );
  return {
    rateLimits: { perIp: counters.ip, ordersPerIp: counters['orders-ip'], ordersPerEmail: counters['orders-email'] },
    close,
  };
}
