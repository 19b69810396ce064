import type { Decision, QueuedOrder, SeatInfo } from '../model/orders.js';
import type { NewTicket } from '../model/tickets.js';
import type { PlanRow } from '../model/seating.js';
import { bestSeats, orphansLeftBy, withDefaultCategory } from '../seating/best-seats.js';

export type AllocationRules = {
  now: Date;
  holdTtlMs: number;
  confirmWithoutPayment: boolean;
  /** Seats one customer may hold unpaid in one showing (0: no cap); nothing is held when orders confirm at once. */
  maxHeldSeatsPerCustomer: number;
  /** Seats the orders from one client address may hold unpaid in one showing (0: no cap). */
  maxHeldSeatsPerAddress: number;
};

/**
 * A showing's whole hall with which seats are free (no active ticket, no block) when the batch read
 * it: what "best N" orders are chosen from and what an explicit order's orphan check looks at. Only
 * read for the showings of a batch that need it.
 */
export type SeatPlans = Map<number, PlanRow[]>;

const seatKey = (showingId: number, seatId: number) => `${showingId}:${seatId}`;

/** The seats an order asked for that are in its showing's hall, by id. */
export const hallSeatsOf = (order: QueuedOrder) =>
  new Map(order.seats.filter((seat) => seat.hallId === order.hallId).map((seat) => [seat.id, seat]));

/** Seats of one showing's plan by id, with their row, so that a batch marks what its orders take. */
function indexPlan(hallId: number, rows: PlanRow[]) {
  const seats = new Map<number, { seat: PlanRow['seats'][number]; info: SeatInfo }>();
  for (const row of rows) {
    for (const seat of row.seats) {
      seats.set(seat.id, {
        seat,
        info: { id: seat.id, hallId, category: seat.category, row: row.label, number: seat.number },
      });
    }
  }
  return seats;
}

/**
 * Decides orders strictly in the given (arrival) order, all or nothing each: an order gets every
 * seat it asked for, or none and the list of seats that were taken. A "best N" order gets the best
 * seats together that are free at its turn (never split), or is refused. An earlier order's seats
 * are taken for every later one in the same batch.
 */
export function decideOrders(
  orders: QueuedOrder[],
  rules: AllocationRules,
  plans: SeatPlans = new Map(),
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
      chosen: null,
    });
  const takenSeats = new Set(
    orders.flatMap((order) =>
      order.seats.filter((seat) => seat.taken).map((seat) => seatKey(order.showingId, seat.id)),
    ),
  );
  const blockedSeats = new Set(
    orders.flatMap((order) =>
      order.seats.filter((seat) => seat.blocked).map((seat) => seatKey(order.showingId, seat.id)),
    ),
  );
  const indexes = new Map<number, ReturnType<typeof indexPlan>>();
  const planOf = (order: QueuedOrder) => {
    const rows = plans.get(order.showingId);
    if (!rows) return undefined;
    let index = indexes.get(order.showingId);
    if (!index) {
      index = indexPlan(order.hallId, rows);
      indexes.set(order.showingId, index);
    }
    return { rows, index };
  };

  /** The seats the order will get, or the reason (and seats) it is refused. */
  const seatsFor = (order: QueuedOrder): SeatInfo[] | { reason: string; seatIds?: number[] } => {
    if (order.showingCancelledAt || order.startsAt <= rules.now) return { reason: 'SHOWING_NOT_ON_SALE' };
    const plan = planOf(order);
    if (order.best) {
      if (!plan) throw new Error(`order ${order.id} asks for the best seats, but its showing's plan was not read`);
      const answer = bestSeats(plan.rows, withDefaultCategory(plan.rows, order.best), order.seating);
      if (answer.rule === 'split') return { reason: 'NO_SEATS_TOGETHER' };
      if (answer.rule === 'none') return { reason: 'NOT_ENOUGH_SEATS' };
      return answer.group.seatIds.map((seatId) => plan.index.get(seatId)!.info);
    }
    const hallSeats = hallSeatsOf(order);
    const foreign = order.seatIds.filter((seatId) => !hallSeats.has(seatId));
    if (foreign.length > 0) return { reason: 'SEAT_NOT_IN_HALL', seatIds: foreign };
    const blocked = order.seatIds.filter((seatId) => blockedSeats.has(seatKey(order.showingId, seatId)));
    if (blocked.length > 0) return { reason: 'SEAT_BLOCKED', seatIds: blocked };
    const taken = order.seatIds.filter((seatId) => takenSeats.has(seatKey(order.showingId, seatId)));
    if (taken.length > 0) return { reason: 'SEAT_TAKEN', seatIds: taken };
    if (order.seating.refuseOrphans && plan) {
      const orphans = orphansLeftBy(plan.rows, order.seatIds);
      if (orphans.length > 0) return { reason: 'ORPHAN_SEAT', seatIds: orphans };
    }
    return order.seatIds.map((seatId) => hallSeats.get(seatId)!);
  };

  /** Seats each customer, and each client address, came to hold in each showing within this batch. */
  const heldInBatch = new Map<string, number>();
  const heldBefore = (key: string) => heldInBatch.get(key) ?? 0;
  const overCap = (cap: number, heldAlready: number, seats: number) => cap > 0 && heldAlready + seats > cap;

  for (const order of orders) {
    const seats = seatsFor(order);
    if (!Array.isArray(seats)) {
      reject(order, seats.reason, seats.seatIds);
      continue;
    }
    const holder = `${order.showingId}:customer:${order.customer}`;
    const address = order.client && `${order.showingId}:client:${order.client}`;
    if (capsHolds(rules)) {
      if (overCap(rules.maxHeldSeatsPerCustomer, order.heldByCustomer + heldBefore(holder), seats.length)) {
        reject(order, 'HOLD_LIMIT');
        continue;
      }
      if (address && overCap(rules.maxHeldSeatsPerAddress, order.heldByClient + heldBefore(address), seats.length)) {
        reject(order, 'ADDRESS_HOLD_LIMIT');
        continue;
      }
    }
    const prices = seats.map((seat) => order.prices[seat.category]);
    if (prices.some((price) => price === undefined)) {
      reject(order, 'PRICE_MISSING');
      continue;
    }
    const status = rules.confirmWithoutPayment ? 'sold' : 'held';
    heldInBatch.set(holder, heldBefore(holder) + seats.length);
    if (address) heldInBatch.set(address, heldBefore(address) + seats.length);
    const index = planOf(order)?.index;
    seats.forEach((seat, position) => {
      takenSeats.add(seatKey(order.showingId, seat.id));
      const planned = index?.get(seat.id);
      if (planned) planned.seat.free = false;
      tickets.push({
        orderId: order.id,
        showingId: order.showingId,
        hallId: order.hallId,
        seatId: seat.id,
        price: prices[position]!,
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
      chosen: order.best ? seats : null,
    });
  }
  return { decisions, tickets };
}

/** Whether a cap on held seats applies: there is one, and orders are held (not confirmed at once). */
export const capsHolds = (
  rules: Pick<AllocationRules, 'confirmWithoutPayment' | 'maxHeldSeatsPerCustomer' | 'maxHeldSeatsPerAddress'>,
) => !rules.confirmWithoutPayment && (rules.maxHeldSeatsPerCustomer > 0 || rules.maxHeldSeatsPerAddress > 0);

/** The showings of these orders whose whole plan the decision needs: "best N" orders, halls that refuse orphans. */
export const showingsNeedingPlans = (orders: QueuedOrder[]) => [
  ...new Set(orders.filter((order) => order.best || order.seating.refuseOrphans).map((order) => order.showingId)),
];
