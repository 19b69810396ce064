import type { Knex } from 'knex';

/**
 * What the payment saga keeps on our side. The order carries the buyer's card token and a summary
 * of where its payment stands; `payments` holds every charge and refund we asked the payment
 * service for, each under its own idempotency key, so a retry can never charge or refund twice.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    ALTER TABLE orders
      ADD COLUMN payment_token text,
      ADD COLUMN payment_status text CHECK (payment_status IN ('processing', 'retrying', 'provider_unavailable', 'paid',
        'declined', 'unresolved', 'refund_pending', 'refunded', 'partially_refunded')),
      ADD COLUMN refunded_total integer NOT NULL DEFAULT 0 CHECK (refunded_total >= 0 AND refunded_total <= coalesce(total, 0));

    -- The tickets a refund pays back (null for a charge, or a refund of the whole order).
    ALTER TABLE payments ADD COLUMN ticket_ids bigint[];
    -- When we last asked the payment service for this charge: a request may land late, so a charge
    -- it has never heard of is taken as not made only a reconcile window after the last attempt.
    ALTER TABLE payments ADD COLUMN last_attempt_at timestamptz;
    -- The reconcile sweep reads only what is not settled yet.
    CREATE INDEX payments_unsettled_idx ON payments (updated_at) WHERE status IN ('pending', 'unknown');
    -- Orders whose payment is under way, for the sweep that re-sends lost charge jobs.
    CREATE INDEX orders_payment_in_flight_idx ON orders (updated_at)
      WHERE status = 'awaiting_payment' AND payment_status IN ('processing', 'retrying', 'provider_unavailable');
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    DROP INDEX IF EXISTS orders_payment_in_flight_idx;
    DROP INDEX IF EXISTS payments_unsettled_idx;
    ALTER TABLE payments DROP COLUMN ticket_ids, DROP COLUMN last_attempt_at;
    ALTER TABLE orders DROP COLUMN payment_token, DROP COLUMN payment_status, DROP COLUMN refunded_total;
  `);
}
