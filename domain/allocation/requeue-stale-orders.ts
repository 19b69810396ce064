import { ordersRepository } from '../../db/repositories/orders.js';
import type { Deps } from '../context.js';
import { partitionOf } from '../model/partitions.js';

/**
 * Orders are durable in PostgreSQL before they are acknowledged, but their wake-up lives in Redis.
 * Orders queued for too long (a wake-up lost with Redis, a partition stuck behind a crash) get their
 * partition woken again, and the partitions' serial setting is restored in case Redis forgot it.
 * Returns the partitions woken.
 */
export async function requeueStaleOrders(deps: Deps): Promise<number[]> {
  await deps.jobs.enforceSerialPartitions();
  const showingIds = await ordersRepository.showingsWithStaleQueuedOrders(deps.db, deps.config.REQUEUE_AFTER_MS);
  const partitions = [...new Set(showingIds.map((id) => partitionOf(id, deps.config.ALLOCATION_PARTITIONS)))];
  await Promise.all(partitions.map((partition) => deps.jobs.wakePartition(partition)));
  return partitions;
}
