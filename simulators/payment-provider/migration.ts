import type { Knex } from 'knex';

/**
 * The payment service's own store, in a schema of its own: it stands in for an external processor,
 * so it shares no table with the booking side and could move to its own database unchanged.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE SCHEMA payment_service;

    -- A charge is first stored 'processing' under its Idempotency-Key: the unique key lets only one
    -- request of any instance charge. A processing row whose lease ran out belongs to a request that
    -- died before deciding (nothing was charged): a retry with the same request may take it over.
    CREATE TABLE payment_service.charges (
      id uuid PRIMARY KEY,
      idempotency_key text NOT NULL,
      reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
      amount integer NOT NULL CHECK (amount > 0),
      currency char(3) NOT NULL,
      token text NOT NULL,
      status text NOT NULL CHECK (status IN ('processing', 'succeeded', 'declined')),
      decline_code text,
      refunded_amount integer NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
      lease_expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT charges_idempotency_key UNIQUE (idempotency_key),
      CONSTRAINT charges_decline_code_check CHECK ((status = 'declined') = (decline_code IS NOT NULL)),
      CONSTRAINT charges_lease_check CHECK ((status = 'processing') = (lease_expires_at IS NOT NULL)),
      CONSTRAINT charges_refunded_check CHECK (refunded_amount = 0 OR status = 'succeeded')
    );
    CREATE INDEX charges_reference_idx ON payment_service.charges (reference, created_at);
    CREATE TRIGGER charges_updated_at BEFORE UPDATE ON payment_service.charges FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

    CREATE TABLE payment_service.refunds (
      id uuid PRIMARY KEY,
      charge_id uuid NOT NULL REFERENCES payment_service.charges (id) ON DELETE RESTRICT,
      idempotency_key text NOT NULL,
      amount integer NOT NULL CHECK (amount > 0),
      reason text CHECK (length(reason) <= 200),
      status text NOT NULL CHECK (status IN ('succeeded')),
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT refunds_idempotency_key UNIQUE (idempotency_key)
    );
    CREATE INDEX refunds_charge_idx ON payment_service.refunds (charge_id, created_at);
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP SCHEMA IF EXISTS payment_service CASCADE');
}
