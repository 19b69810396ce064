import type { Db } from '../connection.js';
import { olderThan } from '../older-than.js';
import { seatVersionsRepository, type SeatDelta, type TicketChange } from './seat-versions.js';

/** An order as the payment saga reads it, locked or not. */
type PayableOrder = {
  id: string;
  status: string;
  total: number | null;
  refundedTotal: number;
  currency: string;
  paymentToken: string | null;
  paymentStatus: string | null;
  startsAt: Date;
};

export type PaymentRow = {
  id: string;
  orderId: string;
  kind: 'charge' | 'refund';
  idempotencyKey: string;
  amount: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed' | 'unknown';
  providerReference: string | null;
};

export type OrderChange = {
  status?: string;
  failureReason?: string;
  /** null: no payment stands (an unpaid order cancelled; a charge landing later is refunded). */
  paymentStatus?: string | null;
  /** The hold ends with the payment's outcome: sold, released or cancelled. */
  endHold?: true;
};

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

const paymentColumns = [
  'id',
  'order_id as orderId',
  'kind',
  'idempotency_key as idempotencyKey',
  'amount',
  'currency',
  'status',
  'provider_reference as providerReference',
];

export const paymentsRepository = {
  payableOrder: (db: Db, orderId: string, { lock = false } = {}): Promise<PayableOrder | undefined> => {
    const query = db({ o: 'orders' })
      .join({ s: 'showings' }, 's.id', 'o.showing_id')
      .first(payableColumns)
      .where('o.id', orderId);
    return lock ? query.forUpdate('o') : query;
  },

  /** Written before each call, so a charge that may have happened is never unrecorded, nor its last attempt forgotten. */
  recordChargeAttempt: (
    db: Db,
    charge: { orderId: string; idempotencyKey: string; amount: number; currency: string },
  ) =>
    db('payments')
      .insert({
        order_id: charge.orderId,
        kind: 'charge',
        idempotency_key: charge.idempotencyKey,
        amount: charge.amount,
        currency: charge.currency,
        status: 'pending',
        last_attempt_at: db.fn.now(),
      })
      .onConflict('idempotency_key')
      .merge({ last_attempt_at: db.fn.now() }),

  /**
   * Sets a payment's outcome and returns its status before, so a replayed outcome can be told
   * apart. Nothing leaves `succeeded`, and only an unsettled payment takes `failed` or `unknown`: a
   * late or repeated attempt cannot undo what the service confirmed.
   */
  settlePayment: async (
    db: Db,
    idempotencyKey: string,
    outcome: { status: PaymentRow['status']; providerReference?: string; failureReason?: string },
  ): Promise<PaymentRow['status'] | undefined> => {
    const { rows } = await db.raw(
      `WITH before AS (SELECT id, status FROM payments WHERE idempotency_key = :key FOR UPDATE),
       changed AS (
         UPDATE payments p SET status = :status, provider_reference = coalesce(:reference, p.provider_reference), failure_reason = :reason
         FROM before
         WHERE p.id = before.id AND before.status <> 'succeeded' AND (:status = 'succeeded' OR before.status IN ('pending', 'unknown'))
       )
       SELECT status FROM before`,
      {
        key: idempotencyKey,
        status: outcome.status,
        reference: outcome.providerReference ?? null,
        reason: outcome.failureReason ?? null,
      },
    );
    return (rows as { status: PaymentRow['status'] }[])[0]?.status;
  },

  /** Moves an order's held tickets on (sold, released) and applies the change to the order; returns the seat-map deltas. */
  settleOrder: async (
    trx: Db,
    orderId: string,
    tickets: 'sold' | 'released',
    change: OrderChange,
  ): Promise<SeatDelta[]> => {
    const changed: TicketChange[] = await trx('tickets')
      .where({ order_id: orderId, status: 'held' })
      .update({ status: tickets })
      .returning(['showing_id as showingId', 'seat_id as seatId', 'status']);
    await paymentsRepository.updateOrder(trx, orderId, change);
    return seatVersionsRepository.bump(trx, changed);
  },

  updateOrder: (db: Db, orderId: string, change: OrderChange) =>
    db('orders')
      .where('id', orderId)
      .update({
        ...(change.status ? { status: change.status } : {}),
        ...(change.failureReason ? { failure_reason: change.failureReason } : {}),
        ...(change.paymentStatus !== undefined ? { payment_status: change.paymentStatus } : {}),
        ...(change.endHold ? { hold_expires_at: null } : {}),
      }),

  /** Starts the payment of a held order that has none under way; false when the order is not in that state. */
  attachPaymentToken: async (db: Db, orderId: string, paymentToken: string): Promise<boolean> =>
    (await db('orders')
      .where({ id: orderId, status: 'awaiting_payment' })
      .whereNull('payment_status')
      .whereRaw('hold_expires_at > now()')
      .update({ payment_token: paymentToken, payment_status: 'processing' })) > 0,

  /** For an order still waiting for its payment; true when the status changed (worth telling the buyer). */
  setPaymentInFlightStatus: async (db: Db, orderId: string, paymentStatus: string): Promise<boolean> =>
    (await db('orders')
      .where({ id: orderId, status: 'awaiting_payment' })
      .whereRaw('payment_status IS DISTINCT FROM ?', [paymentStatus])
      .update({ payment_status: paymentStatus })) > 0,

  /** A refund to send; its key makes the same refund requested twice one refund. Returns its id. */
  recordRefund: async (
    trx: Db,
    refund: { orderId: string; idempotencyKey: string; amount: number; currency: string; ticketIds: number[] | null },
  ): Promise<string> => {
    const [inserted] = await trx('payments')
      .insert({
        order_id: refund.orderId,
        kind: 'refund',
        idempotency_key: refund.idempotencyKey,
        amount: refund.amount,
        currency: refund.currency,
        status: 'pending',
        ticket_ids: refund.ticketIds,
      })
      .onConflict('idempotency_key')
      .ignore()
      .returning('id');
    if (inserted) return inserted.id;
    const existing = await trx('payments').first('id').where('idempotency_key', refund.idempotencyKey);
    return existing.id;
  },

  payment: (db: Db, id: string): Promise<PaymentRow | undefined> =>
    db('payments').first(paymentColumns).where('id', id),

  /** The order's successful charge: what a refund pays back from. */
  succeededCharge: (db: Db, orderId: string): Promise<PaymentRow | undefined> =>
    db('payments').first(paymentColumns).where({ order_id: orderId, kind: 'charge', status: 'succeeded' }),

  /** Counts a refund on its order, once: only the call that moved it to succeeded adds its amount. */
  completeRefund: async (trx: Db, paymentId: string, providerReference: string): Promise<void> => {
    await trx.raw(
      `WITH done AS (
         UPDATE payments SET status = 'succeeded', provider_reference = ?
         WHERE id = ? AND status <> 'succeeded' RETURNING order_id, amount
       )
       UPDATE orders o SET refunded_total = o.refunded_total + done.amount,
         payment_status = CASE WHEN o.refunded_total + done.amount >= o.total THEN 'refunded' ELSE 'partially_refunded' END
       FROM done WHERE o.id = done.order_id`,
      [providerReference, paymentId],
    );
  },

  /** For an unsettled payment only (see settlePayment). */
  markPayment: (db: Db, paymentId: string, status: 'failed' | 'unknown', failureReason: string | null) =>
    db('payments')
      .where('id', paymentId)
      .whereIn('status', ['pending', 'unknown'])
      .update({ status, failure_reason: failureReason }),

  // What the reconcile sweep looks for.

  /** Orders whose payment is still unsettled past their hold and the reconcile window. */
  overduePayments: async (db: Db, windowSeconds: number, limit: number): Promise<string[]> =>
    (
      await db('orders')
        .select('id')
        .where('status', 'awaiting_payment')
        .whereNotNull('payment_status')
        .whereRaw('hold_expires_at < now() - make_interval(secs => ?)', [windowSeconds])
        .orderBy('hold_expires_at')
        .limit(limit)
    ).map((row: { id: string }) => row.id),

  /**
   * Charges of orders that no longer wait for them, whose outcome we never learned, not looked at
   * for `olderThanMs`; `givenUp` once the last attempt is older than `giveUpAfterSeconds`.
   */
  unsettledChargesOfClosedOrders: async (
    db: Db,
    { olderThanMs, giveUpAfterSeconds, limit }: { olderThanMs: number; giveUpAfterSeconds: number; limit: number },
  ): Promise<{ orderId: string; givenUp: boolean }[]> =>
    db({ p: 'payments' })
      .join({ o: 'orders' }, 'o.id', 'p.order_id')
      .select(
        'p.order_id as orderId',
        db.raw('coalesce(p.last_attempt_at, p.created_at) < now() - make_interval(secs => ?) AS "givenUp"', [
          giveUpAfterSeconds,
        ]),
      )
      .where('p.kind', 'charge')
      .whereIn('p.status', ['pending', 'unknown'])
      .whereNot('o.status', 'awaiting_payment')
      .whereRaw(...olderThan('p.updated_at', olderThanMs))
      .orderBy('p.updated_at')
      .limit(limit),

  /** Orders waiting for a charge that nobody has touched for a while: their job may be lost. */
  stalledPaymentOrders: async (db: Db, olderThanMs: number, limit: number): Promise<string[]> =>
    (
      await db('orders')
        .select('id')
        .where('status', 'awaiting_payment')
        .whereIn('payment_status', ['processing', 'retrying', 'provider_unavailable'])
        .whereRaw(...olderThan('updated_at', olderThanMs))
        .limit(limit)
    ).map((row: { id: string }) => row.id),

  unsettledRefunds: async (db: Db, olderThanMs: number, limit: number): Promise<string[]> =>
    (
      await db('payments')
        .select('id')
        .where('kind', 'refund')
        .whereIn('status', ['pending', 'unknown'])
        .whereRaw(...olderThan('updated_at', olderThanMs))
        .limit(limit)
    ).map((row: { id: string }) => row.id),
};
