import type { PaymentRecordStatus } from '../../domain/model/payments.js';
import type { Db } from '../connection.js';
import { olderThan } from '../older-than.js';

export type PaymentRow = {
  id: string;
  orderId: string;
  kind: 'charge' | 'refund';
  idempotencyKey: string;
  amount: number;
  currency: string;
  status: PaymentRecordStatus;
  providerReference: string | null;
};

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
    outcome: { status: PaymentRecordStatus; providerReference?: string; failureReason?: string },
  ): Promise<PaymentRecordStatus | undefined> => {
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
    return (rows as { status: PaymentRecordStatus }[])[0]?.status;
  },

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

  /** Marks a refund succeeded; returns it only to the call that moved it there, so it is counted once. */
  completeRefund: async (
    trx: Db,
    paymentId: string,
    providerReference: string,
  ): Promise<{ orderId: string; amount: number } | undefined> => {
    const [done] = await trx('payments')
      .where('id', paymentId)
      .whereNot('status', 'succeeded')
      .update({ status: 'succeeded' satisfies PaymentRecordStatus, provider_reference: providerReference })
      .returning(['order_id as orderId', 'amount']);
    return done;
  },

  /** For an unsettled payment only (see settlePayment). */
  markPayment: (db: Db, paymentId: string, status: 'failed' | 'unknown', failureReason: string | null) =>
    db('payments')
      .where('id', paymentId)
      .whereIn('status', ['pending', 'unknown'])
      .update({ status, failure_reason: failureReason }),

  // What the reconcile sweep looks for.

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
