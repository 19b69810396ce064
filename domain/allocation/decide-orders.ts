import type { Decision, QueuedOrder } from '../model/orders.js';
import type { NewTicket } from '../model/tickets.js';

export type AllocationRules = { now: Date; holdTtlMs: number; confirmWithoutPayment: boolean };

const seatKey = (showingId: number, seatId: number) => `${showingId}:${seatId}`;

/** The seats an order asked for that are in its showing's hall, by id. */
export const hallSeatsOf = (order: QueuedOrder) =>
  new Map(order.seats.filter((seat) => seat.hallId === order.hallId).map((seat) => [seat.id, seat]));

/**
 * Decides orders strictly in the given (arrival) order, all or nothing each: an order gets every
 * seat it asked for, or none and the list of seats that were taken. An earlier order's seats are
 * taken for every later one in the same batch.
 */
export function decideOrders(
  orders: QueuedOrder[],
  rules: AllocationRules,
): { decisions: Decision[]; tickets: NewTicket[] } {
  const decisions: Decision[] = [];
  const tickets: NewTicket[] = [];
  const reject = (order: QueuedOrder, reason: string, rejectedSeatIds: number[] = []) =>
    decisions.push({
      id: order.id,
      status: 'rejected',
      total: null,
      holdExpiresAt: null,
      rejectedSeatIds,
      failureReason: reason,
      paymentStatus: null,
    });
  const takenSeats = new Set(
    orders.flatMap((order) =>
      order.seats.filter((seat) => seat.taken).map((seat) => seatKey(order.showingId, seat.id)),
    ),
  );

  for (const order of orders) {
    const hallSeats = hallSeatsOf(order);
    if (order.showingCancelledAt || order.startsAt <= rules.now) {
      reject(order, 'SHOWING_NOT_ON_SALE');
      continue;
    }
    const foreign = order.seatIds.filter((seatId) => !hallSeats.has(seatId));
    if (foreign.length > 0) {
      reject(order, 'SEAT_NOT_IN_HALL', foreign);
      continue;
    }
    const taken = order.seatIds.filter((seatId) => takenSeats.has(seatKey(order.showingId, seatId)));
    if (taken.length > 0) {
      reject(order, 'SEAT_TAKEN', taken);
      continue;
    }
    const prices = order.seatIds.map((seatId) => order.prices[hallSeats.get(seatId)!.category]);
    if (prices.some((price) => price === undefined)) {
      reject(order, 'PRICE_MISSING');
      continue;
    }
    const status = rules.confirmWithoutPayment ? 'sold' : 'held';
    order.seatIds.forEach((seatId, index) => {
      takenSeats.add(seatKey(order.showingId, seatId));
      tickets.push({
        orderId: order.id,
        showingId: order.showingId,
        hallId: order.hallId,
        seatId,
        price: prices[index]!,
        status,
      });
    });
    decisions.push({
      id: order.id,
      status: rules.confirmWithoutPayment ? 'confirmed' : 'awaiting_payment',
      total: prices.reduce((sum: number, price) => sum + price!, 0),
      holdExpiresAt: rules.confirmWithoutPayment ? null : new Date(rules.now.getTime() + rules.holdTtlMs),
      rejectedSeatIds: null,
      failureReason: null,
      paymentStatus: !rules.confirmWithoutPayment && order.paysByCard ? 'processing' : null,
    });
  }
  return { decisions, tickets };
}
