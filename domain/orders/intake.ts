import type { Db } from '../../db/connection.js';
import { ordersRepository, type AllocationShowing, type NewOrder, type SeatInfo } from '../../db/repositories/orders.js';
import { createBatcher } from '../batcher.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { partitionOf, type Queues } from '../queues.js';
import { ttlCache } from '../ttl-cache.js';

/**
 * The per-process part of taking orders: cached reads of what a submit checks, and the batched
 * insert that makes orders durable before the partition is woken.
 */
export type OrderIntake = ReturnType<typeof createOrderIntake>;

// A showing's sale state may change (cancelled); a few seconds of staleness is harmless because
// the allocation transaction checks again. Seats of a hall with showings cannot change at all.
const SHOWING_TTL_MS = 2_000;
const HALL_SEATS_TTL_MS = 60_000;

export function createOrderIntake(db: Db, queues: Queues, config: Config, log: Logger) {
  const showings = ttlCache<number, AllocationShowing | undefined>(SHOWING_TTL_MS, async (id) => {
    const [showing] = await ordersRepository.showingsForAllocation(db, [id]);
    return showing;
  });
  const hallSeats = ttlCache<number, Map<number, SeatInfo>>(HALL_SEATS_TTL_MS, async (hallId) => {
    const seats = await ordersRepository.hallSeats(db, hallId);
    return new Map(seats.map((seat) => [seat.id, seat]));
  });

  const inserts = createBatcher<NewOrder, boolean>(
    async (orders) => {
      const inserted = await ordersRepository.insertQueued(db, orders);
      const partitions = new Set(
        orders.filter((order) => inserted.has(order.id)).map((order) => partitionOf(order.showingId, config.ALLOCATION_PARTITIONS)),
      );
      // The orders are durable now; a lost wake-up only delays them until the requeue sweep.
      await Promise.all(
        [...partitions].map((partition) =>
          queues.wakePartition(partition).catch((error: unknown) => log.warn({ err: error, partition }, 'wake-up not sent; the sweep will retry')),
        ),
      );
      return orders.map((order) => inserted.has(order.id));
    },
    { windowMs: config.ORDER_INSERT_WINDOW_MS, maxSize: 500 },
  );

  return {
    showing: (id: number) => showings.get(id),
    hallSeats: (hallId: number) => hallSeats.get(hallId),
    /** Resolves once the order is committed and its partition woken: true if inserted, false if its key existed. */
    insert: (order: NewOrder) => inserts.add(order),
    drain: () => inserts.drain(),
  };
}
