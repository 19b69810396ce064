import type { OrderStatus } from '../../domain/model/order-states.js';
import { ORDER_SOURCES } from '../../domain/model/order-states.js';
import type { Order, OrderSeat } from '../../domain/model/orders.js';
import type { InFlightPaymentStatus, PaymentStatus } from '../../domain/model/payments.js';
import { IN_FLIGHT_PAYMENT_STATUSES } from '../../domain/model/payments.js';
import type { TicketChange } from '../../domain/model/tickets.js';
import type { Db } from '../connection.js';
import { olderThan } from '../older-than.js';
import { runPrepared } from '../prepared.js';

/** An order as the payment saga and the cancellations read it, locked or not. */
export type PayableOrder = Pick<Order, 'id' | 'status' | 'total' | 'refundedTotal' | 'currency' | 'paymentStatus'> & {
  paymentToken: string | null;
  startsAt: Date;
};

/** What a use case changes on one order; a new status must be an edge of the order state machine. */
export type OrderChange = {
  status?: OrderStatus;
  failureReason?: string;
  /** null: no payment stands (an unpaid order cancelled; a charge landing later is refunded). */
  paymentStatus?: PaymentStatus | null;
  /** The hold ends with the payment's outcome: sold, released or cancelled. */
  endHold?: true;
};

const orderColumns = [
  'id',
  'seq',
  'showing_id as showingId',
  'status',
  'seat_ids as seatIds',
  'best',
  'customer_email as customerEmail',
  'customer_name as customerName',
  'total',
  'currency',
  'hold_expires_at as holdExpiresAt',
  'rejected_seat_ids as rejectedSeatIds',
  'failure_reason as failureReason',
  'payment_status as paymentStatus',
  'refunded_total as refundedTotal',
  'decided_at as decidedAt',
  'created_at as createdAt',
  'updated_at as updatedAt',
  'version',
  'request_id as requestId',
];

const payableColumns = [
  'o.id',
  'o.status',
  'o.total',
  'o.refunded_total as refundedTotal',
  'o.currency',
  'o.payment_token as paymentToken',
  'o.payment_status as paymentStatus',
  's.starts_at as startsAt',
];

export const ordersRepository = {
  /** The current version of each of these orders that exists. */
  versions: async (db: Db, ids: string[]): Promise<Map<string, number>> => {
    const rows = await runPrepared<{ id: string; version: number }>(
      db,
      'orders-versions',
      'SELECT id, version FROM orders WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.version]));
  },

  /** The orders these Idempotency-Keys were used for, by key. */
  byIdempotencyKeys: async (db: Db, keys: string[]): Promise<Map<string, { id: string; requestHash: string }>> => {
    const rows = await runPrepared<{ key: string; id: string; requestHash: string }>(
      db,
      'orders-by-idempotency-keys',
      'SELECT idempotency_key AS key, id, request_hash AS "requestHash" FROM orders WHERE idempotency_key = ANY($1::text[])',
      [keys],
    );
    return new Map(rows.map(({ key, ...order }) => [key, order]));
  },

  /** Orders with the seats they asked for (row, number, and the price of the ticket when there is one). */
  withSeats: async (db: Db, ids: string[]): Promise<{ order: Order; seats: OrderSeat[] }[]> => {
    if (ids.length === 0) return [];
    const [orders, seats] = await Promise.all([
      db('orders').select(orderColumns).whereIn('id', ids) as Promise<Order[]>,
      db
        .select(
          'o.id as orderId',
          's.id as seatId',
          'r.label as row',
          's.number',
          't.price',
          't.id as ticketId',
          't.status as ticketStatus',
        )
        .from({ o: 'orders' })
        .joinRaw('CROSS JOIN LATERAL unnest(o.seat_ids) WITH ORDINALITY AS wanted(seat_id, position)')
        .join({ s: 'seats' }, 's.id', 'wanted.seat_id')
        .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
        .leftJoin({ t: 'tickets' }, (join) => join.on('t.order_id', 'o.id').andOn('t.seat_id', 's.id'))
        .whereIn('o.id', ids)
        .orderBy(['o.id', 'wanted.position']) as Promise<(OrderSeat & { orderId: string })[]>,
    ]);
    const seatsByOrder = new Map<string, OrderSeat[]>();
    for (const { orderId, ...seat } of seats) {
      const list = seatsByOrder.get(orderId) ?? [];
      list.push(seat);
      seatsByOrder.set(orderId, list);
    }
    return orders.map((order) => ({ order, seats: seatsByOrder.get(order.id) ?? [] }));
  },

  payable: (db: Db, orderId: string, { lock = false } = {}): Promise<PayableOrder | undefined> => {
    const query = db({ o: 'orders' })
      .join({ s: 'showings' }, 's.id', 'o.showing_id')
      .first(payableColumns)
      .where('o.id', orderId);
    return lock ? query.forUpdate('o') : query;
  },

  /**
   * Applies a change to one order. A new status is written only over a status it is an edge from
   * (ORDER_TRANSITIONS); anything else is a bug in the caller, and throws instead of writing.
   */
  change: async (db: Db, orderId: string, change: OrderChange): Promise<void> => {
    const values = {
      ...(change.status ? { status: change.status } : {}),
      ...(change.failureReason ? { failure_reason: change.failureReason } : {}),
      ...(change.paymentStatus !== undefined ? { payment_status: change.paymentStatus } : {}),
      ...(change.endHold ? { hold_expires_at: null } : {}),
    };
    // Nothing to change (a paid order keeps its payment status when free tickets are cancelled).
    if (Object.keys(values).length === 0) return;
    const query = db('orders').where('id', orderId).update(values);
    if (change.status) query.whereIn('status', ORDER_SOURCES[change.status]);
    if ((await query) === 0 && change.status) {
      throw new Error(`order ${orderId}: ${change.status} is not reachable from its status (or it does not exist)`);
    }
  },

  /** Starts the payment of a held order that has none under way; false when the order is not in that state. */
  attachPaymentToken: async (db: Db, orderId: string, paymentToken: string): Promise<boolean> =>
    (await db('orders')
      .where({ id: orderId, status: 'awaiting_payment' })
      .whereNull('payment_status')
      .whereRaw('hold_expires_at > now()')
      .update({ payment_token: paymentToken, payment_status: 'processing' satisfies PaymentStatus })) > 0,

  /** For an order still waiting for its payment; true when the status changed (worth telling the buyer). */
  setPaymentInFlightStatus: async (db: Db, orderId: string, paymentStatus: InFlightPaymentStatus): Promise<boolean> =>
    (await db('orders')
      .where({ id: orderId, status: 'awaiting_payment' })
      .whereRaw('payment_status IS DISTINCT FROM ?', [paymentStatus])
      .update({ payment_status: paymentStatus })) > 0,

  /** Counts a refund that went through on its order: refunded in full, or in part. */
  addRefund: (trx: Db, orderId: string, amount: number) =>
    trx.raw(
      `UPDATE orders SET refunded_total = refunded_total + :amount,
         payment_status = CASE WHEN refunded_total + :amount >= total THEN 'refunded' ELSE 'partially_refunded' END
       WHERE id = :orderId`,
      { amount, orderId },
    ),

  /** The showing's orders that hold or own seats, locked against the payment saga. */
  lockActiveOfShowing: (trx: Db, showingId: number): Promise<Pick<Order, 'id' | 'status' | 'currency'>[]> =>
    trx('orders')
      .select('id', 'status', 'currency')
      .where('showing_id', showingId)
      .whereIn('status', ['awaiting_payment', 'confirmed'] satisfies OrderStatus[])
      .orderBy('id')
      .forUpdate(),

  /**
   * Releases the seats of orders whose hold ran out, a bounded batch at a time; rows another
   * transaction is busy with are skipped and picked up on the next sweep. A hold whose payment is
   * under way is not expired here: the payment reconcile settles it (see reconcilePayments).
   */
  expireHolds: async (trx: Db, limit: number): Promise<{ orderIds: string[]; released: TicketChange[] }> => {
    const { rows } = await trx.raw(
      `WITH due AS (
         SELECT id FROM orders
         WHERE status = 'awaiting_payment' AND hold_expires_at < now() AND payment_status IS NULL
         ORDER BY hold_expires_at LIMIT ? FOR UPDATE SKIP LOCKED
       ), expired AS (
         UPDATE orders o SET status = 'expired', failure_reason = 'HOLD_EXPIRED'
         FROM due WHERE o.id = due.id RETURNING o.id
       ), released AS (
         UPDATE tickets t SET status = 'released'
         FROM expired WHERE t.order_id = expired.id AND t.status = 'held'
         RETURNING t.showing_id, t.seat_id
       )
       SELECT (SELECT coalesce(jsonb_agg(id), '[]') FROM expired) AS "orderIds",
              (SELECT coalesce(jsonb_agg(jsonb_build_object('showingId', showing_id, 'seatId', seat_id, 'status', 'released')), '[]') FROM released)
                AS released`,
      [limit],
    );
    return rows[0] as { orderIds: string[]; released: TicketChange[] };
  },

  /** Showings with orders queued longer than `olderThanMs`: their partition's wake-up was lost or is late. */
  showingsWithStaleQueuedOrders: async (db: Db, olderThanMs: number): Promise<number[]> =>
    (
      await db('orders')
        .distinct('showing_id')
        .where('status', 'queued')
        .whereRaw(...olderThan('created_at', olderThanMs))
    ).map((row: { showing_id: number }) => row.showing_id),

  // What the sweeps look for.

  /**
   * Orders whose payment is still unsettled past their hold and its extension: the outage window while
   * the payment waits for the provider (provider_unavailable), the grace otherwise.
   */
  overduePayments: async (
    db: Db,
    { outageSeconds, graceSeconds }: { outageSeconds: number; graceSeconds: number },
    limit: number,
  ): Promise<string[]> =>
    (
      await db('orders')
        .select('id')
        .where('status', 'awaiting_payment')
        .whereNotNull('payment_status')
        .whereRaw(
          `hold_expires_at < now() - make_interval(secs => CASE WHEN payment_status = 'provider_unavailable' THEN ?::int ELSE ?::int END)`,
          [outageSeconds, graceSeconds],
        )
        .orderBy('hold_expires_at')
        .limit(limit)
    ).map((row: { id: string }) => row.id),

  /** Orders waiting for a charge that nobody has touched for a while: their job may be lost. */
  stalledPayments: async (db: Db, olderThanMs: number, limit: number): Promise<string[]> =>
    (
      await db('orders')
        .select('id')
        .where('status', 'awaiting_payment')
        .whereIn('payment_status', IN_FLIGHT_PAYMENT_STATUSES)
        .whereRaw(...olderThan('updated_at', olderThanMs))
        .limit(limit)
    ).map((row: { id: string }) => row.id),
};
