import type { Knex } from 'knex';
import { scopedIdempotencyKey } from '../../domain/orders/place-order.js';
import { isOperation, type OrderSeen, type PairedOperation } from './history.js';

/**
 * The checker of a chaos run: the recorded history of every client operation beside the database
 * as it is once the run settled. Each rule counts what must never happen; every count must be 0.
 * `checkHistory` is pure (a history and a snapshot in, counts out), so crafted histories test it;
 * `readSnapshot` reads the snapshot from the run's database.
 */

export type SnapshotOrder = {
  id: string;
  /** Arrival order: the allocation decides a partition's queued orders by it. */
  seq: number;
  showingId: number;
  status: string;
  seatIds: number[];
  idempotencyKey: string | null;
  rejectedSeatIds: number[] | null;
  failureReason: string | null;
  paymentStatus: string | null;
  /** ms since the epoch. */
  createdAt: number;
  /** The start of the transaction that decided it (ms since the epoch). */
  decidedAt: number | null;
};

export type SnapshotTicket = {
  orderId: string;
  showingId: number;
  seatId: number;
  price: number;
  status: string;
  /** The start of the transaction that held the seat (ms since the epoch). */
  createdAt: number;
};

/** Our record of a charge or refund (the `payments` table). */
export type SnapshotPayment = {
  idempotencyKey: string;
  status: string;
  createdAt: number;
};

/** The payment service's own record of a charge (the simulator's tables: the money that moved). */
export type SnapshotCharge = {
  idempotencyKey: string;
  reference: string;
  amount: number;
  status: string;
  refundedAmount: number;
};

export type DatabaseSnapshot = {
  /** The database's clock when the snapshot was read (ms since the epoch). */
  checkedAt: number;
  orders: SnapshotOrder[];
  tickets: SnapshotTicket[];
  payments: SnapshotPayment[];
  charges: SnapshotCharge[];
};

/** The run's settings the rules' deadlines follow from (ms). */
export type CheckLimits = {
  holdTtlMs: number;
  reconcileWindowMs: number;
  paymentTimeoutMs: number;
  /** Slack for sweeps, queues and restarts on top of the deadlines the application promises. */
  graceMs: number;
};

export const CHECK_RULES = [
  'seatsWithTwoActiveOwners',
  'acceptedOrdersNotFinal',
  'confirmationsLost',
  'soldTicketsUnexplained',
  'chargesPerKeyAboveOne',
  'paidOrdersWithoutSeatsNotRefunded',
  'laterOrderWonSeatOfEarlier',
  'paymentsUnknownForever',
] as const;
export type CheckRule = (typeof CHECK_RULES)[number];

export type CheckReport = {
  counts: Record<CheckRule, number>;
  /** A few offenders of each rule that fired, to start the search from. */
  examples: Partial<Record<CheckRule, string[]>>;
  /** What the history and the database hold, for the report. */
  totals: {
    operations: number;
    submitsInvoked: number;
    ordersAccepted: number;
    ordersStored: number;
    confirmationsSeen: number;
    ordersByStatus: Record<string, number>;
  };
};

const ACTIVE_TICKETS = new Set(['held', 'sold']);
const FINAL_ORDER_STATUSES = new Set(['confirmed', 'rejected', 'expired', 'payment_failed', 'cancelled', 'refunded']);
/** An order's payment still moving: a charge in flight or waiting, or a refund not made yet. */
const PAYMENT_IN_MOTION = new Set(['processing', 'retrying', 'provider_unavailable', 'refund_pending']);
const UNSETTLED_PAYMENTS = new Set(['pending', 'unknown']);

const seatKey = (showingId: number, seatId: number) => `${showingId}:${seatId}`;

/** What the history says the clients asked for and saw. */
function clientView(operations: PairedOperation[]) {
  const submits = new Map<string, { showingId: number; seatIds: number[]; token: string | null }>();
  const acceptedIds = new Set<string>();
  const paid = new Set<string>();
  const cancelled = new Set<string>();
  /** The newest view of each order a client saw confirmed. */
  const confirmed = new Map<string, OrderSeen>();
  for (const operation of operations) {
    if (isOperation(operation, 'submit')) {
      // Orders keep the key as the intake stores it: within its customer's space.
      submits.set(scopedIdempotencyKey(operation.invocation.key, operation.invocation.email), operation.invocation);
      if (operation.completion === 'ok' && operation.answer?.order) acceptedIds.add(operation.answer.order.id);
    }
    if (isOperation(operation, 'pay')) paid.add(operation.invocation.orderId);
    // Any cancel a client sent, whatever came back, may have cancelled the order.
    if (isOperation(operation, 'cancel')) cancelled.add(operation.invocation.orderId);
    const seen = operation.completion === 'ok' ? operation.answer?.order : undefined;
    if (seen?.status === 'confirmed' && (confirmed.get(seen.id)?.version ?? -1) < seen.version) {
      confirmed.set(seen.id, seen);
    }
  }
  return { submits, acceptedIds, paid, cancelled, confirmed };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

export function checkHistory(
  operations: PairedOperation[],
  snapshot: DatabaseSnapshot,
  limits: CheckLimits,
): CheckReport {
  const client = clientView(operations);
  const orders = new Map(snapshot.orders.map((order) => [order.id, order]));
  const ordersByKey = new Map(snapshot.orders.map((order) => [order.idempotencyKey, order]));
  const ticketsOf = groupBy(snapshot.tickets, (ticket) => ticket.orderId);
  const ticketsOnSeat = groupBy(snapshot.tickets, (ticket) => seatKey(ticket.showingId, ticket.seatId));
  const chargesOf = groupBy(snapshot.charges, (charge) => charge.reference);
  /** Money the payment service kept for an order: succeeded charges less their refunds. */
  const netPaid = (orderId: string) =>
    (chargesOf.get(orderId) ?? [])
      .filter((charge) => charge.status === 'succeeded')
      .reduce((sum, charge) => sum + charge.amount - charge.refundedAmount, 0);
  const soldValue = (orderId: string) =>
    (ticketsOf.get(orderId) ?? [])
      .filter((ticket) => ticket.status === 'sold')
      .reduce((sum, ticket) => sum + ticket.price, 0);
  const age = (since: number) => snapshot.checkedAt - since;

  const found: Record<CheckRule, Set<string>> = Object.fromEntries(
    CHECK_RULES.map((rule) => [rule, new Set<string>()]),
  ) as Record<CheckRule, Set<string>>;

  // Two owners of a seat: two active tickets in the database, or two orders clients saw confirmed
  // for it that nobody asked to cancel (a confirmation the database later took back counts too).
  for (const [seat, tickets] of ticketsOnSeat) {
    if (tickets.filter((ticket) => ACTIVE_TICKETS.has(ticket.status)).length > 1) {
      found.seatsWithTwoActiveOwners.add(seat);
    }
  }
  const confirmedOwners = new Map<string, Set<string>>();
  for (const seen of client.confirmed.values()) {
    if (client.cancelled.has(seen.id)) continue;
    for (const seat of seen.seats) {
      const key = seatKey(seen.showingId, seat.seatId);
      confirmedOwners.set(key, (confirmedOwners.get(key) ?? new Set()).add(seen.id));
    }
  }
  for (const [seat, owners] of confirmedOwners) if (owners.size > 1) found.seatsWithTwoActiveOwners.add(seat);

  // Accepted: a client got it back, or the database holds an order for a key some client sent (an
  // answer lost on the way still created it). Past its hold and the reconcile window it must be decided for good.
  const accepted = new Set(client.acceptedIds);
  for (const key of client.submits.keys()) {
    const order = ordersByKey.get(key);
    if (order) accepted.add(order.id);
  }
  const finalBy = limits.holdTtlMs + limits.reconcileWindowMs + limits.graceMs;
  for (const id of accepted) {
    const order = orders.get(id);
    if (!order || (!FINAL_ORDER_STATUSES.has(order.status) && age(order.createdAt) > finalBy)) {
      found.acceptedOrdersNotFinal.add(id);
    }
  }

  // A confirmation a client saw stays: the order confirmed with those seats sold, or cancelled
  // because a client asked.
  for (const seen of client.confirmed.values()) {
    const order = orders.get(seen.id);
    const mayBeCancelled = client.cancelled.has(seen.id);
    const tickets = ticketsOf.get(seen.id) ?? [];
    const seatsKept = seen.seats.every((seat) =>
      tickets.some(
        (ticket) =>
          ticket.seatId === seat.seatId &&
          (ticket.status === 'sold' || (mayBeCancelled && ticket.status === 'cancelled')),
      ),
    );
    const kept = order?.status === 'confirmed' || (mayBeCancelled && order?.status === 'cancelled');
    if (!kept || !seatsKept) found.confirmationsLost.add(seen.id);
  }

  // A sold ticket needs a client's submit for that showing and seat, a card given (with the
  // submit or a later payment), and money the payment service kept for its order.
  for (const ticket of snapshot.tickets) {
    if (ticket.status !== 'sold') continue;
    const order = orders.get(ticket.orderId);
    const submit = order?.idempotencyKey ? client.submits.get(order.idempotencyKey) : undefined;
    const explained =
      submit !== undefined &&
      submit.showingId === ticket.showingId &&
      submit.seatIds.includes(ticket.seatId) &&
      (submit.token !== null || client.paid.has(ticket.orderId)) &&
      (ticket.price === 0 || netPaid(ticket.orderId) > 0);
    if (!explained) found.soldTicketsUnexplained.add(`${ticket.orderId}:${ticket.seatId}`);
  }

  // The service's unique key makes two rows of one key impossible there; one order (our key is
  // charge:<orderId>) charged twice under different keys is the double charge that could happen.
  for (const [key, charges] of groupBy(snapshot.charges, (charge) => charge.idempotencyKey)) {
    if (charges.length > 1) found.chargesPerKeyAboveOne.add(key);
  }
  for (const [reference, charges] of chargesOf) {
    if (charges.filter((charge) => charge.status === 'succeeded').length > 1)
      found.chargesPerKeyAboveOne.add(reference);
  }

  for (const reference of chargesOf.keys()) {
    if (netPaid(reference) > soldValue(reference)) found.paidOrdersWithoutSeatsNotRefunded.add(reference);
  }

  // First come, first served within a partition: an order rejected for a seat must not have lost it
  // to an order that arrived later (higher seq) and was decided no later (its ticket existed when
  // the earlier one was decided). Decisions of a partition are serial, each batch in arrival order.
  for (const order of snapshot.orders) {
    if (order.status !== 'rejected' || order.failureReason !== 'SEAT_TAKEN' || order.decidedAt === null) continue;
    const overtaken = (order.rejectedSeatIds ?? []).some((seatId) =>
      (ticketsOnSeat.get(seatKey(order.showingId, seatId)) ?? []).some((ticket) => {
        const winner = orders.get(ticket.orderId);
        return winner !== undefined && winner.seq > order.seq && ticket.createdAt <= order.decidedAt!;
      }),
    );
    if (overtaken) found.laterOrderWonSeatOfEarlier.add(order.id);
  }

  // Every payment ends known: the last charge attempt comes at the latest a reconcile window past
  // the hold, and a charge still unknown then is looked up for one more window (every two timeouts).
  const knownBy = limits.holdTtlMs + 2 * limits.reconcileWindowMs + 2 * limits.paymentTimeoutMs + limits.graceMs;
  for (const payment of snapshot.payments) {
    if (UNSETTLED_PAYMENTS.has(payment.status) && age(payment.createdAt) > knownBy) {
      found.paymentsUnknownForever.add(payment.idempotencyKey);
    }
  }
  for (const order of snapshot.orders) {
    if (order.paymentStatus && PAYMENT_IN_MOTION.has(order.paymentStatus) && age(order.createdAt) > knownBy) {
      found.paymentsUnknownForever.add(`order ${order.id} (${order.paymentStatus})`);
    }
  }

  const ordersByStatus: Record<string, number> = {};
  for (const order of snapshot.orders) ordersByStatus[order.status] = (ordersByStatus[order.status] ?? 0) + 1;
  return {
    counts: Object.fromEntries(CHECK_RULES.map((rule) => [rule, found[rule].size])) as Record<CheckRule, number>,
    examples: Object.fromEntries(
      CHECK_RULES.filter((rule) => found[rule].size > 0).map((rule) => [rule, [...found[rule]].slice(0, 5)]),
    ),
    totals: {
      operations: operations.length,
      submitsInvoked: client.submits.size,
      ordersAccepted: accepted.size,
      ordersStored: snapshot.orders.length,
      confirmationsSeen: client.confirmed.size,
      ordersByStatus,
    },
  };
}

/** A timestamp in ms since the epoch, microseconds kept: two transactions within one millisecond stay apart. */
const epochMs = (column: string) => `extract(epoch from ${column}) * 1000`;

/** The run's database as the checker needs it: every order, ticket and payment, and the payment service's charges. */
export async function readSnapshot(db: Knex): Promise<DatabaseSnapshot> {
  const [{ rows: clock }, orders, tickets, payments, charges] = await Promise.all([
    db.raw(`SELECT ${epochMs('clock_timestamp()')} AS now`),
    db('orders').select(
      'id',
      'seq',
      'showing_id',
      'status',
      'seat_ids',
      'idempotency_key',
      'rejected_seat_ids',
      'failure_reason',
      'payment_status',
      db.raw(`${epochMs('created_at')} AS created_at`),
      db.raw(`${epochMs('decided_at')} AS decided_at`),
    ),
    db('tickets').select(
      'order_id',
      'showing_id',
      'seat_id',
      'price',
      'status',
      db.raw(`${epochMs('created_at')} AS created_at`),
    ),
    db('payments').select('idempotency_key', 'status', db.raw(`${epochMs('created_at')} AS created_at`)),
    db('payment_service.charges').select('idempotency_key', 'reference', 'amount', 'status', 'refunded_amount'),
  ]);
  return {
    checkedAt: Number(clock[0].now),
    orders: orders.map((row) => ({
      id: row.id,
      seq: Number(row.seq),
      showingId: Number(row.showing_id),
      status: row.status,
      seatIds: row.seat_ids.map(Number),
      idempotencyKey: row.idempotency_key,
      rejectedSeatIds: row.rejected_seat_ids?.map(Number) ?? null,
      failureReason: row.failure_reason,
      paymentStatus: row.payment_status,
      createdAt: Number(row.created_at),
      decidedAt: row.decided_at === null ? null : Number(row.decided_at),
    })),
    tickets: tickets.map((row) => ({
      orderId: row.order_id,
      showingId: Number(row.showing_id),
      seatId: Number(row.seat_id),
      price: row.price,
      status: row.status,
      createdAt: Number(row.created_at),
    })),
    payments: payments.map((row) => ({
      idempotencyKey: row.idempotency_key,
      status: row.status,
      createdAt: Number(row.created_at),
    })),
    charges: charges.map((row) => ({
      idempotencyKey: row.idempotency_key,
      reference: row.reference,
      amount: row.amount,
      status: row.status,
      refundedAmount: row.refunded_amount,
    })),
  };
}
