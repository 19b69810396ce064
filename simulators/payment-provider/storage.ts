import type { Knex } from 'knex';

type Db = Knex;

/** Where its tables live, apart from the booking system's. */
export const PROVIDER_SCHEMA = 'payment_service';

const CHARGES = `${PROVIDER_SCHEMA}.charges`;
const REFUNDS = `${PROVIDER_SCHEMA}.refunds`;

/** What a charge request says; a replay must say the same to get the stored charge. */
export type ChargeRequest = { amount: number; currency: string; reference: string; token: string };

export type ChargeRow = ChargeRequest & {
  id: string;
  status: 'processing' | 'succeeded' | 'declined';
  declineCode: string | null;
  refundedAmount: number;
  createdAt: Date;
};

export type RefundRequest = { chargeId: string; amount: number; reason: string | null };

export type RefundRow = RefundRequest & { id: string; status: 'succeeded'; createdAt: Date };

const chargeColumns = [
  'id',
  'reference',
  'amount',
  'currency',
  'token',
  'status',
  'decline_code as declineCode',
  'refunded_amount as refundedAmount',
  'created_at as createdAt',
];

const refundColumns = ['id', 'charge_id as chargeId', 'amount', 'reason', 'status', 'created_at as createdAt'];

const newestFirst = [
  { column: 'created_at', order: 'desc' as const },
  { column: 'id', order: 'desc' as const },
];

/** The simulator's own tables (schema payment_service): the only SQL it runs. */
export const providerStorage = {
  /**
   * Claims the key for a new attempt `id`: inserts a processing row, or takes over a processing row
   * of the same request whose lease ran out (its request died before deciding). False when the key
   * is held: by a finished charge, a live attempt, or another request.
   */
  claimCharge: async (
    db: Db,
    claim: ChargeRequest & { id: string; idempotencyKey: string; leaseMs: number },
  ): Promise<boolean> => {
    const { rows } = await db.raw(
      `INSERT INTO payment_service.charges AS c (id, idempotency_key, reference, amount, currency, token, status, lease_expires_at)
       VALUES (?, ?, ?, ?, ?, ?, 'processing', now() + make_interval(secs => ?))
       ON CONFLICT (idempotency_key) DO UPDATE
         SET id = EXCLUDED.id, lease_expires_at = EXCLUDED.lease_expires_at, created_at = now()
         WHERE c.status = 'processing' AND c.lease_expires_at < now()
           AND (c.reference, c.amount, c.currency, c.token) = (EXCLUDED.reference, EXCLUDED.amount, EXCLUDED.currency, EXCLUDED.token)
       RETURNING id`,
      [
        claim.id,
        claim.idempotencyKey,
        claim.reference,
        claim.amount,
        claim.currency,
        claim.token,
        claim.leaseMs / 1000,
      ],
    );
    return rows.length > 0;
  },

  chargeByKey: (db: Db, idempotencyKey: string): Promise<ChargeRow | undefined> =>
    db(CHARGES).where({ idempotency_key: idempotencyKey }).first(chargeColumns),

  /**
   * Records the attempt's outcome: declined with a decline code, else succeeded. Undefined when the
   * attempt no longer holds its row (taken over) or outlived its lease: such an attempt charges nothing.
   */
  completeCharge: async (db: Db, id: string, declineCode: string | null): Promise<ChargeRow | undefined> => {
    const [row] = await db(CHARGES)
      .where({ id, status: 'processing' })
      .where('lease_expires_at', '>=', db.fn.now())
      .update({ status: declineCode ? 'declined' : 'succeeded', decline_code: declineCode, lease_expires_at: null })
      .returning(chargeColumns);
    return row;
  },

  /** Frees the key of an attempt that charged nothing, so that a retry is a fresh attempt. */
  releaseCharge: async (db: Db, id: string): Promise<void> => {
    await db(CHARGES).where({ id, status: 'processing' }).delete();
  },

  charge: (db: Db, id: string): Promise<ChargeRow | undefined> => db(CHARGES).where({ id }).first(chargeColumns),

  /**
   * The reference's charges, newest first; an attempt past its lease is left out: it died before
   * deciding (its process or its database went away) and can no longer charge anything.
   */
  chargesByReference: (db: Db, reference: string): Promise<ChargeRow[]> =>
    db(CHARGES)
      .select(chargeColumns)
      .where({ reference })
      .whereNot((dead) => dead.where('status', 'processing').where('lease_expires_at', '<', db.fn.now()))
      .orderBy(newestFirst),

  /** The charge, locked until the transaction ends: refunds of one charge are decided one at a time. */
  lockCharge: (trx: Db, id: string): Promise<ChargeRow | undefined> =>
    trx(CHARGES).where({ id }).forUpdate().first(chargeColumns),

  refundByKey: (trx: Db, idempotencyKey: string): Promise<RefundRow | undefined> =>
    trx(REFUNDS).where({ idempotency_key: idempotencyKey }).first(refundColumns),

  /**
   * Stores the refund and adds it to its charge; undefined when the key was taken meanwhile by a
   * refund of another charge. Call with the charge locked.
   */
  insertRefund: async (
    trx: Db,
    refund: RefundRequest & { id: string; idempotencyKey: string },
  ): Promise<RefundRow | undefined> => {
    const [row] = await trx(REFUNDS)
      .insert({
        id: refund.id,
        charge_id: refund.chargeId,
        idempotency_key: refund.idempotencyKey,
        amount: refund.amount,
        reason: refund.reason,
        status: 'succeeded',
      })
      .onConflict('idempotency_key')
      .ignore()
      .returning(refundColumns);
    if (row) await trx(CHARGES).where({ id: refund.chargeId }).increment('refunded_amount', refund.amount);
    return row;
  },

  refundsOfCharge: (db: Db, chargeId: string): Promise<RefundRow[]> =>
    db(REFUNDS).select(refundColumns).where({ charge_id: chargeId }).orderBy(newestFirst),
};
