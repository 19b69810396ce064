import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import { constraintViolation } from '../../db/violations.js';
import type { Deps } from '../context.js';
import type { DecidedStatus } from '../model/order-states.js';
import type { Decision, OrderView, QueuedOrder, StoredDecision } from '../model/orders.js';
import type { NewTicket, SeatDelta } from '../model/tickets.js';
import { toOrderView } from '../orders/view.js';
import { requestCharges } from '../payments/payment-jobs.js';
import type { Trace } from '../ports.js';
import { capsHolds, decideOrders, hallSeatsOf, showingsNeedingPlans, type AllocationRules } from './decide-orders.js';

/** The decided order as GET /orders/:id shows it, built from what the batch already holds. */
function decidedView(
  order: QueuedOrder,
  decision: Decision,
  stored: StoredDecision,
  /** The new tickets, by `${orderId}:${seatId}`. */
  newTickets: Map<string, NewTicket>,
): OrderView {
  const hallSeats = decision.chosen ? new Map(decision.chosen.map((seat) => [seat.id, seat])) : hallSeatsOf(order);
  const seatIds = decision.chosen?.map((seat) => seat.id) ?? order.seatIds;
  const seats = seatIds.map((seatId) => {
    const seat = hallSeats.get(seatId);
    const ticket = newTickets.get(`${order.id}:${seatId}`);
    return {
      seatId,
      row: seat?.row ?? '',
      number: seat?.number ?? 0,
      price: ticket?.price ?? null,
      ticketId: stored.ticketIds[seatId] ?? null,
      ticketStatus: ticket?.status ?? null,
    };
  });
  return toOrderView({ ...order, ...decision, ...stored, refundedTotal: 0 }, seats);
}

const MAX_CONFLICT_RETRIES = 5;

/** `orders`: the queued orders the batch decided, by id; `startedAt`: when the batch began (ms since the epoch). */
type Batch = {
  views: OrderView[];
  seats: SeatDelta[];
  lastSeq: number;
  orders: Map<string, QueuedOrder>;
  startedAt: number;
};

/**
 * The arrival barrier, then a transaction: take the shared arrival lock; lock the partition's oldest
 * queued orders up to the barrier's horizon, with their showing, their seats and which of those are
 * taken (and, where "best N" orders or a hall's orphan rule need it, the whole hall with what is
 * free); write tickets, outcomes and seat versions in one statement. Returns the decided orders as
 * buyers see them.
 */
async function decideNextBatch(deps: Deps, partition: number, afterSeq: number): Promise<Batch> {
  const { config } = deps;
  const startedAt = Date.now();
  const horizon = await orderQueueRepository.arrivalHorizon(deps.db, partition);
  const rules: Omit<AllocationRules, 'now'> = {
    holdTtlMs: config.HOLD_TTL_SECONDS * 1000,
    confirmWithoutPayment: config.CONFIRM_WITHOUT_PAYMENT,
    maxHeldSeatsPerCustomer: config.MAX_HELD_SEATS_PER_CUSTOMER,
    maxHeldSeatsPerAddress: config.MAX_HELD_SEATS_PER_ADDRESS,
  };
  return deps.db.transaction(async (trx) => {
    const orders = await orderQueueRepository.lockQueuedBatch(trx, {
      partitions: config.ALLOCATION_PARTITIONS,
      partition,
      afterSeq,
      horizon,
      limit: config.ALLOCATION_BATCH_SIZE,
      countHeld: capsHolds(rules),
    });
    if (orders.length === 0) return { views: [], seats: [], lastSeq: afterSeq, orders: new Map(), startedAt };
    const planned = showingsNeedingPlans(orders);
    const plans = planned.length > 0 ? await orderQueueRepository.seatPlans(trx, planned) : undefined;
    const { decisions, tickets } = decideOrders(orders, { ...rules, now: new Date() }, plans);
    const { stored, seats } = await orderQueueRepository.recordDecisions(trx, decisions, tickets);
    const orderById = new Map(orders.map((order) => [order.id, order]));
    const newTickets = new Map(tickets.map((ticket) => [`${ticket.orderId}:${ticket.seatId}`, ticket]));
    const views = decisions.map((decision) => {
      const order = orderById.get(decision.id)!;
      return decidedView(order, decision, stored.get(decision.id)!, newTickets);
    });
    return { views, seats, lastSeq: orders.at(-1)!.seq, orders: orderById, startedAt };
  });
}

/**
 * The batch's decisions for the operators, once committed: one log line per order (with the request
 * id it was submitted with), the metrics, and what the publication carries for the processes that
 * tell the buyers (realtime logs the push under the same request id, and times it from the commit).
 */
function reportDecisions(deps: Deps, partition: number, { views, orders, startedAt }: Batch): Trace {
  const committedAt = Date.now();
  const requestIds: Record<string, string> = {};
  for (const view of views) {
    const order = orders.get(view.id)!;
    const arrivedAt = order.createdAt.getTime();
    // Clocks of two machines (the intake's and this worker's): a skew never makes a negative wait.
    deps.metrics.orderDecided(
      view.status as DecidedStatus,
      Math.max(0, startedAt - arrivedAt) / 1000,
      Math.max(0, committedAt - arrivedAt) / 1000,
    );
    deps.log.info(
      {
        orderId: view.id,
        requestId: order.requestId ?? undefined,
        partition,
        status: view.status,
        reason: view.reason,
      },
      'order decided',
    );
    if (order.requestId) requestIds[view.id] = order.requestId;
  }
  return { requestIds, decidedAt: committedAt };
}

/**
 * Per partition, the highest arrival number this process has seen decided. Every order of the
 * partition numbered below it is decided too: batches take the oldest queued orders, and the arrival
 * barrier keeps a lower number from committing late. A stale (lower) mark is only slower, never wrong.
 * Valid for one ALLOCATION_PARTITIONS value, like the partitioning itself.
 */
export type DrainMarks = Map<number, number>;

/**
 * Drains a partition: batch after batch of queued orders in arrival order until none is left, then
 * publishes each batch's outcomes after its commit. Running it twice is harmless: decided orders are
 * no longer queued. Should a writer outside the queue take a seat between our read and our insert,
 * the unique index refuses the batch, and the batch is decided again from fresh data.
 */
export async function allocateSeats(deps: Deps, partition: number, marks: DrainMarks = new Map()): Promise<number> {
  let decidedTotal = 0;
  for (;;) {
    let batch: Batch | undefined;
    for (let attempt = 1; !batch; attempt += 1) {
      try {
        batch = await decideNextBatch(deps, partition, marks.get(partition) ?? 0);
      } catch (error) {
        const violation = constraintViolation(error);
        if (violation?.constraint !== 'tickets_one_active_per_seat' || attempt >= MAX_CONFLICT_RETRIES) throw error;
        deps.log.warn(
          { partition, attempt },
          'a seat was taken outside the queue during allocation; deciding the batch again',
        );
      }
    }
    const decided = batch.views;
    marks.set(partition, batch.lastSeq);
    if (decided.length === 0) return decidedTotal;
    decidedTotal += decided.length;
    // Not awaited: the partition goes on deciding while Redis takes the charge jobs.
    void requestCharges(
      deps,
      decided.filter((order) => order.paymentStatus === 'processing').map((order) => order.id),
    );
    await deps.events.publish(decided, batch.seats, reportDecisions(deps, partition, batch));
    if (decided.length < deps.config.ALLOCATION_BATCH_SIZE) return decidedTotal;
  }
}
