import type { Db } from '../../db/connection.js';
import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import { ordersRepository } from '../../db/repositories/orders.js';
import { ticketsRepository } from '../../db/repositories/tickets.js';
import { saleCatalogRepository } from '../../db/repositories/sale-catalog.js';
import { constraintViolation, retryingDeadlock } from '../../db/violations.js';
import type { Config } from '../config.js';
import { DomainError } from '../errors.js';
import type { NewOrder, OrderView } from '../model/orders.js';
import { partitionOf } from '../model/partitions.js';
import { warnThrottled } from '../throttled-log.js';
import type { BatcherFactory, Jobs, Logger, SaleEvents } from '../ports.js';

/** true: inserted; false: its Idempotency-Key existed; showing-gone: the showing was deleted meanwhile. */
type InsertOutcome = boolean | 'showing-gone';

export type OrderInserts = ReturnType<typeof createOrderInserts>;

type InsertDeps = { db: Db; jobs: Jobs; events: SaleEvents; config: Config; log: Logger };

/** An order to make durable, and how buyers see it once it is: queued. */
type Queued = { order: NewOrder; view: OrderView };

/**
 * Orders arriving within ORDER_INSERT_WINDOW_MS share one multi-row INSERT (at most
 * ORDER_INSERTS_IN_FLIGHT at once per process); once they are committed their partitions are woken
 * and the new orders are published, queued, in one message (so every process knows of them before
 * any buyer hears back: a Socket.IO subscription is then answered from memory).
 */
export function createOrderInserts(deps: InsertDeps, batcher: BatcherFactory) {
  const inserts = batcher<Queued, InsertOutcome>((queued) => insertQueued(deps, queued), {
    windowMs: deps.config.ORDER_INSERT_WINDOW_MS,
    maxSize: 500,
    maxInFlight: deps.config.ORDER_INSERTS_IN_FLIGHT,
  });
  const keyLookups = batcher<string, { id: string; requestHash: string } | undefined>(
    async (keys) => {
      const found = await ordersRepository.byIdempotencyKeys(deps.db, [...new Set(keys)]);
      return keys.map((key) => found.get(key));
    },
    { windowMs: 0, maxSize: 500, maxInFlight: 1 },
  );
  const takenLookups = batcher<{ showingId: number; seatIds: number[] }, { taken: number[]; blocked: number[] }>(
    async (requests) => {
      const showingIds = requests.flatMap(({ showingId, seatIds }) => seatIds.map(() => showingId));
      const unavailable = await ticketsRepository.unavailableAmong(
        deps.db,
        showingIds,
        requests.flatMap(({ seatIds }) => seatIds),
      );
      const why = new Map(unavailable.map(({ showingId, seatId, blocked }) => [`${showingId}:${seatId}`, blocked]));
      return requests.map(({ showingId, seatIds }) => ({
        taken: seatIds.filter((seatId) => why.get(`${showingId}:${seatId}`) === false),
        blocked: seatIds.filter((seatId) => why.get(`${showingId}:${seatId}`) === true),
      }));
    },
    { windowMs: 0, maxSize: 500, maxInFlight: 1 },
  );
  return {
    /** The order an Idempotency-Key was used for, if any (lookups arriving together share one statement). */
    orderWithKey: (key: string) => keyLookups.add(key),
    /**
     * The seats among these an active ticket holds now, and those the cinema blocked, asked in a
     * statement started after the call (checks arriving together share one).
     */
    unavailableSeats: (showingId: number, seatIds: number[]) => takenLookups.add({ showingId, seatIds }),
    /** Resolves once the order is committed and its partition woken: true if inserted, false if its key existed. */
    insert: async (order: NewOrder, view: OrderView) => {
      const result = await inserts.add({ order, view });
      if (result === 'showing-gone')
        throw new DomainError('SHOWING_NOT_FOUND', `Showing ${order.showingId} does not exist`);
      return result;
    },
    /** Waits for every insert under way (a process stopping). */
    drain: () => Promise.all([inserts.drain(), keyLookups.drain(), takenLookups.drain()]),
  };
}

/**
 * One INSERT for the whole batch. A showing deleted after an order's check fails the foreign key of
 * the statement: then that showing's orders are left out, the others inserted without them, and the
 * left-out ones answered SHOWING_NOT_FOUND.
 */
async function insertQueued({ db, jobs, events, config, log }: InsertDeps, queued: Queued[]): Promise<InsertOutcome[]> {
  const orders = queued.map(({ order }) => order);
  // Two batches holding the same two Idempotency-Keys in opposite order wait on each other's
  // uncommitted key; PostgreSQL breaks the tie by failing one, which is then simply run again.
  const insert = (batch: typeof withPartition) => retryingDeadlock(() => orderQueueRepository.insertQueued(db, batch));
  const withPartition = orders.map((order) => ({
    ...order,
    partition: partitionOf(order.showingId, config.ALLOCATION_PARTITIONS),
  }));
  let kept = withPartition;
  let inserted: Set<string>;
  try {
    inserted = await insert(withPartition);
  } catch (error) {
    if (constraintViolation(error)?.constraint !== 'orders_showing_id_fkey') throw error;
    const existing = await saleCatalogRepository.showings(db, [...new Set(orders.map((order) => order.showingId))]);
    const exists = new Set(existing.map((showing) => showing.id));
    kept = withPartition.filter((order) => exists.has(order.showingId));
    inserted = kept.length > 0 ? await insert(kept) : new Set();
  }
  // The orders are durable now. The wake-up is not awaited: while Redis is away it would wait for
  // Redis to come back; a lost wake-up only delays the orders until the requeue sweep.
  const partitions = new Set(kept.filter((order) => inserted.has(order.id)).map((order) => order.partition));
  for (const partition of partitions) {
    jobs
      .wakePartition(partition)
      .catch((error: unknown) =>
        warnThrottled(
          log,
          'wake-up',
          { partition, reason: (error as Error).message },
          'wake-up not sent; the sweep will retry',
        ),
      );
  }
  const views = queued.filter(({ order }) => inserted.has(order.id)).map(({ view }) => view);
  if (views.length > 0) {
    events.publish(views).catch((error: unknown) => log.warn({ err: error }, 'queued orders not published'));
  }
  const keptIds = new Set(kept.map((order) => order.id));
  return orders.map((order) => (keptIds.has(order.id) ? inserted.has(order.id) : 'showing-gone'));
}
