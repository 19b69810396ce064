import type { Knex } from 'knex';

/**
 * The invariants live here, in the database, so that no code path (a bug, a script, a second
 * writer that bypasses the queue) can break them.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE EXTENSION IF NOT EXISTS btree_gist;

    CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN NEW.updated_at := now(); RETURN NEW; END $$;

    CREATE TABLE cities (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX cities_name_key ON cities (lower(name));

    CREATE TABLE cinemas (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      city_id bigint NOT NULL REFERENCES cities (id) ON DELETE RESTRICT,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      address text,
      timezone text NOT NULL,
      currency char(3) NOT NULL,
      default_prices jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX cinemas_city_id_idx ON cinemas (city_id, id);

    CREATE TABLE halls (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      cinema_id bigint NOT NULL REFERENCES cinemas (id) ON DELETE RESTRICT,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      seat_count integer NOT NULL CHECK (seat_count > 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT halls_name_key UNIQUE (cinema_id, name)
    );

    -- Rows and seats are the stored layout: labels, positions and categories a front end draws,
    -- and from which adjacency follows (same row, x of the next seat = x + width of this one).
    CREATE TABLE hall_rows (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      hall_id bigint NOT NULL REFERENCES halls (id) ON DELETE CASCADE,
      label text NOT NULL CHECK (length(label) BETWEEN 1 AND 8),
      y integer NOT NULL CHECK (y >= 0),
      CONSTRAINT hall_rows_label_key UNIQUE (hall_id, label),
      CONSTRAINT hall_rows_y_key UNIQUE (hall_id, y)
    );

    CREATE TABLE seats (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      hall_id bigint NOT NULL REFERENCES halls (id) ON DELETE CASCADE,
      row_id bigint NOT NULL REFERENCES hall_rows (id) ON DELETE CASCADE,
      number integer NOT NULL CHECK (number > 0),
      x integer NOT NULL CHECK (x >= 0),
      width smallint NOT NULL CHECK (width IN (1, 2)),
      category text NOT NULL CHECK (category IN ('standard', 'vip', 'double', 'wheelchair')),
      CONSTRAINT seats_number_key UNIQUE (row_id, number),
      CONSTRAINT seats_id_hall_key UNIQUE (id, hall_id),
      CONSTRAINT seats_no_overlap EXCLUDE USING gist (row_id WITH =, int4range(x, x + width) WITH &&)
    );
    CREATE INDEX seats_hall_idx ON seats (hall_id);

    CREATE TABLE films (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
      duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 600),
      description text,
      age_rating text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    -- blocked_until = ends_at + the cleaning gap in force when the showing was created; the hall is
    -- busy over [starts_at, blocked_until) and no two live showings of one hall may share a moment.
    CREATE TABLE showings (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      hall_id bigint NOT NULL REFERENCES halls (id) ON DELETE RESTRICT,
      film_id bigint NOT NULL REFERENCES films (id) ON DELETE RESTRICT,
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      blocked_until timestamptz NOT NULL,
      prices jsonb NOT NULL,
      currency char(3) NOT NULL,
      cancelled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT showings_times_check CHECK (ends_at > starts_at AND blocked_until >= ends_at),
      CONSTRAINT showings_id_hall_key UNIQUE (id, hall_id),
      CONSTRAINT showings_no_overlap EXCLUDE USING gist (hall_id WITH =, tstzrange(starts_at, blocked_until) WITH &&)
        WHERE (cancelled_at IS NULL)
    );
    CREATE INDEX showings_hall_starts_idx ON showings (hall_id, starts_at);
    CREATE INDEX showings_film_starts_idx ON showings (film_id, starts_at);
    CREATE INDEX showings_starts_idx ON showings (starts_at, id);

    -- seq is the arrival order: first come, first served is decided by it. An identity never repeats,
    -- so it needs no unique index of its own (one index fewer to write for every order).
    CREATE TABLE orders (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      showing_id bigint NOT NULL REFERENCES showings (id) ON DELETE RESTRICT,
      status text NOT NULL CHECK (status IN ('queued', 'awaiting_payment', 'confirmed', 'rejected', 'expired',
                                             'payment_failed', 'cancelled', 'refunded')),
      seat_ids bigint[] NOT NULL CHECK (cardinality(seat_ids) BETWEEN 1 AND 10),
      customer_email text NOT NULL,
      customer_name text,
      total integer CHECK (total >= 0),
      currency char(3) NOT NULL,
      hold_expires_at timestamptz,
      rejected_seat_ids bigint[],
      failure_reason text,
      decided_at timestamptz,
      -- The buyer's Idempotency-Key and a hash of the request it came with: a replay with the
      -- same body gets this order back, one with another body is refused.
      idempotency_key text,
      request_hash text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT orders_idempotency_key UNIQUE (idempotency_key)
    );
    CREATE INDEX orders_queued_idx ON orders (seq) INCLUDE (showing_id) WHERE status = 'queued';
    CREATE INDEX orders_showing_idx ON orders (showing_id, created_at);
    -- The hold-expiry sweep reads only orders waiting for payment, oldest hold first.
    CREATE INDEX orders_hold_expiry_idx ON orders (hold_expires_at) WHERE status = 'awaiting_payment';

    -- A ticket's seat must belong to its showing's hall: both composite keys carry hall_id.
    CREATE TABLE tickets (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
      showing_id bigint NOT NULL,
      hall_id bigint NOT NULL,
      seat_id bigint NOT NULL,
      price integer NOT NULL CHECK (price >= 0),
      status text NOT NULL CHECK (status IN ('held', 'sold', 'released', 'cancelled')),
      cancelled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT tickets_showing_fkey FOREIGN KEY (showing_id, hall_id) REFERENCES showings (id, hall_id) ON DELETE RESTRICT,
      CONSTRAINT tickets_seat_fkey FOREIGN KEY (seat_id, hall_id) REFERENCES seats (id, hall_id) ON DELETE RESTRICT,
      CONSTRAINT tickets_cancelled_check CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
    );
    -- The last line of defence against a double sale: one active ticket per seat and showing.
    CREATE UNIQUE INDEX tickets_one_active_per_seat ON tickets (showing_id, seat_id) WHERE status IN ('held', 'sold');
    CREATE INDEX tickets_order_idx ON tickets (order_id);

    CREATE TABLE payments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
      kind text NOT NULL CHECK (kind IN ('charge', 'refund')),
      idempotency_key text NOT NULL,
      amount integer NOT NULL CHECK (amount > 0),
      currency char(3) NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'unknown')),
      provider_reference text,
      failure_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT payments_idempotency_key UNIQUE (idempotency_key)
    );
    CREATE UNIQUE INDEX payments_one_successful_charge ON payments (order_id) WHERE kind = 'charge' AND status = 'succeeded';

  `);
  for (const table of ['cities', 'cinemas', 'halls', 'films', 'showings', 'orders', 'tickets', 'payments']) {
    await db.raw(
      `CREATE TRIGGER ${table}_updated_at BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,
    );
  }
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    DROP TABLE IF EXISTS payments, tickets, orders, showings, films, seats, hall_rows, halls, cinemas, cities;
    DROP FUNCTION IF EXISTS set_updated_at();
  `);
}
