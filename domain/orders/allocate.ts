import { constraintViolation } from '../../db/violations.js';
import {
  ordersRepository,
  type AllocationShowing,
  type Decision,
  type NewTicket,
  type QueuedOrder,
  type SeatInfo,
} from '../../db/repositories/orders.js';
import type { Deps } from '../context.js';
import { orderViews } from './get-order.js';

export type AllocationRules = { now: Date; holdTtlMs: number; confirmWithoutPayment: boolean };

const seatKey = (showingId: number, seatId: number) => `${showingId}:${seatId}`;

/**
 * Decides orders strictly in the given (arrival) order, all or nothing each: an order gets every
 * seat it asked for, or none and the list of seats that were taken. An earlier order's seats are
 * taken for every later one in the same batch.
 */
export function decideOrders(
  orders: QueuedOrder[],
  context: { showings: Map<number, AllocationShowing>; seats: Map<number, SeatInfo>; taken: Set<string> },
  rules: AllocationRules,
): { decisions: Decision[]; tickets: NewTicket[] } {
  const decisions: Decision[] = [];
  const tickets: NewTicket[] = [];
  const reject = (order: QueuedOrder, reason: string, rejectedSeatIds: number[] = []) =>
    decisions.push({ id: order.id, status: 'rejected', total: null, holdExpiresAt: null, rejectedSeatIds, failureReason: reason });

  for (const order of orders) {
    const showing = context.showings.get(order.showingId);
    if (!showing || showing.cancelledAt || showing.startsAt <= rules.now) {
      reject(order, 'SHOWING_NOT_ON_SALE');
      continue;
    }
    const foreign = order.seatIds.filter((seatId) => context.seats.get(seatId)?.hallId !== showing.hallId);
    if (foreign.length > 0) {
      reject(order, 'SEAT_NOT_IN_HALL', foreign);
      continue;
    }
    const taken = order.seatIds.filter((seatId) => context.taken.has(seatKey(order.showingId, seatId)));
    if (taken.length > 0) {
      reject(order, 'SEAT_TAKEN', taken);
      continue;
    }
    const prices = order.seatIds.map((seatId) => showing.prices[context.seats.get(seatId)!.category]);
    if (prices.some((price) => price === undefined)) {
      reject(order, 'PRICE_MISSING');
      continue;
    }
    const status = rules.confirmWithoutPayment ? 'sold' : 'held';
    order.seatIds.forEach((seatId, index) => {
      context.taken.add(seatKey(order.showingId, seatId));
      tickets.push({ orderId: order.id, showingId: order.showingId, hallId: showing.hallId, seatId, price: prices[index]!, status });
    });
    decisions.push({
      id: order.id,
      status: rules.confirmWithoutPayment ? 'confirmed' : 'awaiting_payment',
      total: prices.reduce((sum: number, price) => sum + price!, 0),
      holdExpiresAt: rules.confirmWithoutPayment ? null : new Date(rules.now.getTime() + rules.holdTtlMs),
      rejectedSeatIds: null,
      failureReason: null,
    });
  }
  return { decisions, tickets };
}

const unique = <T>(values: T[]) => [...new Set(values)];
const MAX_CONFLICT_RETRIES = 5;

/** One transaction: lock the partition's oldest queued orders, decide them, write tickets and outcomes. */
async function decideNextBatch(deps: Deps, partition: number): Promise<string[]> {
  const { config } = deps;
  return deps.db.transaction(async (trx) => {
    const orders = await ordersRepository.lockQueuedBatch(trx, {
      partitions: config.ALLOCATION_PARTITIONS,
      partition,
      limit: config.ALLOCATION_BATCH_SIZE,
    });
    if (orders.length === 0) return [];
    const seatIds = unique(orders.flatMap((order) => order.seatIds));
    // One connection in a transaction: these run one after the other.
    const showings = await ordersRepository.showingsForAllocation(trx, unique(orders.map((order) => order.showingId)));
    const seats = await ordersRepository.seatInfo(trx, seatIds);
    const taken = await ordersRepository.takenSeats(
      trx,
      orders.flatMap((order) => order.seatIds.map((seatId) => ({ showingId: order.showingId, seatId }))),
    );
    const { decisions, tickets } = decideOrders(
      orders,
      {
        showings: new Map(showings.map((showing) => [showing.id, showing])),
        seats: new Map(seats.map((seat) => [seat.id, seat])),
        taken: new Set(taken.map((pair) => seatKey(pair.showingId, pair.seatId))),
      },
      { now: new Date(), holdTtlMs: config.HOLD_TTL_SECONDS * 1000, confirmWithoutPayment: config.CONFIRM_WITHOUT_PAYMENT },
    );
    await ordersRepository.insertTickets(trx, tickets);
    await ordersRepository.recordDecisions(trx, decisions);
    return decisions.map((decision) => decision.id);
  });
}

/**
 * Drains a partition: batch after batch of queued orders in arrival order until none is left, then
 * publishes each batch's outcomes after its commit. Running it twice is harmless: decided orders are
 * no longer queued. Should a writer outside the queue take a seat between our read and our insert,
 * the unique index refuses the batch, and the batch is decided again from fresh data.
 */
export async function allocateSeats(deps: Deps, partition: number): Promise<number> {
  let decidedTotal = 0;
  for (;;) {
    let decided: string[] | undefined;
    for (let attempt = 1; !decided; attempt += 1) {
      try {
        decided = await decideNextBatch(deps, partition);
      } catch (error) {
        const violation = constraintViolation(error);
        if (violation?.constraint !== 'tickets_one_active_per_seat' || attempt >= MAX_CONFLICT_RETRIES) throw error;
        deps.log.warn({ partition, attempt }, 'a seat was taken outside the queue during allocation; deciding the batch again');
      }
    }
    if (decided.length === 0) return decidedTotal;
    decidedTotal += decided.length;
    await deps.orderUpdates.publish(await orderViews(deps, decided));
    if (decided.length < deps.config.ALLOCATION_BATCH_SIZE) return decidedTotal;
  }
}
