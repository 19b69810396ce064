import { ordersRepository } from '../../db/repositories/orders.js';
import { seatVersionsRepository } from '../../db/repositories/seat-versions.js';
import type { Deps } from '../context.js';
import { partitionOf } from '../queues.js';
import { publishOrderUpdates } from './get-order.js';

const EXPIRY_BATCH = 500;

/** Seats held past their expiry without payment go back on sale; the order becomes `expired`. */
export async function expireHolds(deps: Deps): Promise<number> {
  let expired = 0;
  for (;;) {
    const { orderIds, seats } = await deps.db.transaction(async (trx) => {
      const { orderIds, released } = await ordersRepository.expireHolds(trx, EXPIRY_BATCH);
      return { orderIds, seats: await seatVersionsRepository.bump(trx, released) };
    });
    expired += orderIds.length;
    if (orderIds.length > 0) await publishOrderUpdates(deps, orderIds, seats);
    if (orderIds.length < EXPIRY_BATCH) return expired;
  }
}

/**
 * Orders are durable in PostgreSQL before they are acknowledged, but their wake-up lives in Redis.
 * Orders queued for too long (a wake-up lost with Redis, a partition stuck behind a crash) get their
 * partition woken again, and the partitions' serial setting is restored in case Redis forgot it.
 */
export async function requeueStaleOrders(deps: Deps): Promise<number[]> {
  await deps.queues.enforceSerialPartitions();
  const showingIds = await ordersRepository.showingsWithStaleQueuedOrders(deps.db, deps.config.REQUEUE_AFTER_MS);
  const partitions = [...new Set(showingIds.map((id) => partitionOf(id, deps.config.ALLOCATION_PARTITIONS)))];
  await Promise.all(partitions.map((partition) => deps.queues.wakePartition(partition)));
  return partitions;
}
