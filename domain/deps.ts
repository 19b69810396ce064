import { connectDatabase } from '../db/connection.js';
import { connectRedis } from '../db/redis.js';
import type { Config } from './config.js';
import type { Deps } from './context.js';
import type { Logger } from './logger.js';
import { createOrderIntake } from './orders/intake.js';
import { createOrderUpdates } from './orders/updates.js';
import { createPaymentBehaviour } from './payment-service/behaviour.js';
import { createQueues } from './queues.js';

export function createDeps(config: Config, log: Logger, poolMax = config.DB_POOL_MAX): Deps {
  const db = connectDatabase(config.DATABASE_URL, poolMax);
  const redis = connectRedis(config.REDIS_URL);
  const queues = createQueues(config, connectRedis(config.REDIS_URL, { forQueues: true }));
  return {
    db,
    redis,
    config,
    log,
    queues,
    orderUpdates: createOrderUpdates(redis, config.REDIS_PREFIX),
    orderIntake: createOrderIntake(db, queues, config, log),
    paymentBehaviour: createPaymentBehaviour(config),
  };
}

/** Finishes pending inserts, then closes every connection the process opened. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.orderIntake.drain();
  await deps.orderUpdates.close();
  await deps.queues.close();
  await Promise.allSettled([deps.db.destroy(), deps.redis.quit()]);
}
