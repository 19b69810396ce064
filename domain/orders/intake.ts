import type { Db } from '../../db/connection.js';
import { constraintViolation, retryingDeadlock } from '../../db/violations.js';
import { ordersRepository, type SaleShowing, type NewOrder, type SeatInfo } from '../../db/repositories/orders.js';
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

// A showing's sale state may change (cancelled); some staleness is harmless because the allocation
// transaction checks again: at worst an order is queued and then rejected. Seats of a hall with
// showings cannot change at all.
const SHOWING_TTL_MS = 10_000;
const HALL_SEATS_TTL_MS = 60_000;

export function createOrderIntake(db: Db, queues: Queues, config: Config, log: Logger) {
  const showings = ttlCache<number, SaleShowing | undefined>(SHOWING_TTL_MS, async (id) => {
    const [showing] = await ordersRepository.showingsForSale(db, [id]);
    return showing;
  });
  const hallSeats = ttlCache<number, Map<number, SeatInfo>>(HALL_SEATS_TTL_MS, async (hallId) => {
    const seats = await ordersRepository.hallSeats(db, hallId);
    return new Map(seats.map((seat) => [seat.id, seat]));
  });

  /**
   * One INSERT for the whole batch. A showing deleted after an order's check fails the foreign key
   * of the statement: then that showing's orders are left out, the others inserted without them, and
   * the left-out ones answered SHOWING_NOT_FOUND.
   */
  /**
   * Two batches holding the same two Idempotency-Keys in opposite order wait on each other's
   * uncommitted key; PostgreSQL breaks the tie by failing one, which is then simply run again.
   */
  const insertRetryingDeadlock = (orders: Parameters<typeof ordersRepository.insertQueued>[1]) =>
    retryingDeadlock(() => ordersRepository.insertQueued(db, orders));

  const insertBatch = async (orders: NewOrder[]): Promise<InsertOutcome[]> => {
    const withPartition = orders.map((order) => ({
      ...order,
      partition: partitionOf(order.showingId, config.ALLOCATION_PARTITIONS),
    }));
    let kept = withPartition;
    let inserted: Set<string>;
    try {
      inserted = await insertRetryingDeadlock(withPartition);
    } catch (error) {
      if (constraintViolation(error)?.constraint !== 'orders_showing_id_fkey') throw error;
      const existing = await ordersRepository.showingsForSale(db, [...new Set(orders.map((order) => order.showingId))]);
      const exists = new Set(existing.map((showing) => showing.id));
      kept = withPartition.filter((order) => exists.has(order.showingId));
      inserted = kept.length > 0 ? await insertRetryingDeadlock(kept) : new Set();
    }
    // The orders are durable now. The wake-up is not awaited: while Redis is away it would wait for
    // Redis to come back; a lost wake-up only delays the orders until the requeue sweep.
    const partitions = new Set(kept.filter((order) => inserted.has(order.id)).map((order) => order.partition));
    for (const partition of partitions) {
      queues
        .wakePartition(partition)
        .catch((error: unknown) => log.warn({ err: error, partition }, 'wake-up not sent; the sweep will retry'));
    }
    const keptIds = new Set(kept.map((order) => order.id));
    return orders.map((order) => (keptIds.has(order.id) ? inserted.has(order.id) : 'showing-gone'));
  };

  const inserts = createBatcher<NewOrder, InsertOutcome>(insertBatch, {
    windowMs: config.ORDER_INSERT_WINDOW_MS,
    maxSize: 500,
    maxInFlight: config.ORDER_INSERTS_IN_FLIGHT,
  });

  return {
    showing: async (id: number) => {
      const showing = await showings.get(id);
      // A showing created a moment ago must not stay "not found" for the cache's lifetime.
      if (!showing) showings.forget(id);
      return showing;
    },
    hallSeats: (hallId: number) => hallSeats.get(hallId),
    /** Resolves once the order is committed and its partition woken: true if inserted, false if its key existed. */
    insert: async (order: NewOrder) => {
      const result = await inserts.add(order);
      if (result === 'showing-gone')
        throw new DomainError('SHOWING_NOT_FOUND', `Showing ${order.showingId} does not exist`);
      return result;
    },
    drain: () => inserts.drain(),
  };
}
