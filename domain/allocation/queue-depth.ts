import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import type { Deps } from '../context.js';

/**
 * Orders queued and not decided yet, by partition (every partition, the empty ones at 0): what the
 * allocation has left to drain. One index-only scan of the queued orders (orders_queued_idx).
 */
export async function queuedOrdersByPartition(deps: Pick<Deps, 'db' | 'config'>): Promise<Map<number, number>> {
  const partitions = deps.config.ALLOCATION_PARTITIONS;
  const queued = await orderQueueRepository.queuedByPartition(deps.db, partitions);
  return new Map(Array.from({ length: partitions }, (_, partition) => [partition, queued.get(partition) ?? 0]));
}
