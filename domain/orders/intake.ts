import type { Db } from '../../db/connection.js';
import { constraintViolation } from '../../db/violations.js';
import { ordersRepository, type AllocationShowing, type NewOrder, type SeatInfo } from '../../db/repositories/orders.js';
import { createBatcher } from '../batcher.js';
import type { Config } from '../config.js';
import { DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import { partitionOf, type Queues } from '../queues.js';
import { ttlCache } from '../ttl-cache.js';

/**
 * The per-process part of taking orders: cached reads of what a submit checks, and the batched
 * insert that makes orders durable before the partition is woken.
 */
export type OrderIntake = ReturnType<typeof createOrderIntake>;

/** true: inserted; false: its Idempotency-Key existed; showing-gone: the showing was deleted meanwhile. */
type InsertOutcome = boolean | 'showing-gone';

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

  /**
   * One INSERT per partition present in the batch, side by side. A showing deleted after an order's
   * check fails the foreign key of its whole statement: then that showing's orders are left out, the
   * others inserted without them, and the left-out ones answered SHOWING_NOT_FOUND.
   */
  const insertPartition = async (partition: number, orders: NewOrder[]): Promise<Map<string, InsertOutcome>> => {
    let kept = orders;
    let inserted: Set<string>;
    try {
      inserted = await ordersRepository.insertQueued(db, partition, orders);
    } catch (error) {
      if (constraintViolation(error)?.constraint !== 'orders_showing_id_fkey') throw error;
      const existing = await ordersRepository.showingsForAllocation(db, [...new Set(orders.map((order) => order.showingId))]);
      const exists = new Set(existing.map((showing) => showing.id));
      kept = orders.filter((order) => exists.has(order.showingId));
      inserted = kept.length > 0 ? await ordersRepository.insertQueued(db, partition, kept) : new Set();
    }
    if (inserted.size > 0) {
      // The orders are durable now; a lost wake-up only delays them until the requeue sweep.
      await queues.wakePartition(partition).catch((error: unknown) => log.warn({ err: error, partition }, 'wake-up not sent; the sweep will retry'));
    }
    const keptIds = new Set(kept.map((order) => order.id));
    return new Map(orders.map((order) => [order.id, keptIds.has(order.id) ? inserted.has(order.id) : 'showing-gone']));
  };

  const inserts = createBatcher<NewOrder, InsertOutcome>(
    async (orders) => {
      const byPartition = new Map<number, NewOrder[]>();
      for (const order of orders) {
        const partition = partitionOf(order.showingId, config.ALLOCATION_PARTITIONS);
        byPartition.set(partition, [...(byPartition.get(partition) ?? []), order]);
      }
      const outcomes = await Promise.all([...byPartition].map(([partition, group]) => insertPartition(partition, group)));
      const outcomeOf = new Map(outcomes.flatMap((outcome) => [...outcome]));
      return orders.map((order) => outcomeOf.get(order.id)!);
    },
    { windowMs: config.ORDER_INSERT_WINDOW_MS, maxSize: 500 },
  );

  return {
    showing: (id: number) => showings.get(id),
    hallSeats: (hallId: number) => hallSeats.get(hallId),
    /** Resolves once the order is committed and its partition woken: true if inserted, false if its key existed. */
    insert: async (order: NewOrder) => {
      const result = await inserts.add(order);
      if (result === 'showing-gone') throw new DomainError('SHOWING_NOT_FOUND', `Showing ${order.showingId} does not exist`);
      return result;
    },
    drain: () => inserts.drain(),
  };
}
