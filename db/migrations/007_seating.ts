import type { Knex } from 'knex';

/**
 * Best-available seating and seat blocks.
 *
 * - `halls.seating`: the hall's scoring settings for "best N together" (where its focal point is, how
 *   much a row of distance weighs against a seat sideways) and whether explicit orders that strand a
 *   single seat are refused. Catalog data: the hall's catalog-version trigger covers it.
 * - `orders.best`: an order for "the best N seats" names no seats; the allocation picks them at
 *   decision time and writes them into `seat_ids`. Such an order is queued with no seats.
 * - `seat_blocks`: seats of one showing taken off sale by the cinema (a broken seat, staff, a camera),
 *   with a reason. A block and a ticket never share a seat: both are written under the partition's
 *   arrival lock (the allocation shared, a block exclusively), and the trigger below refuses a block
 *   on a seat with an active ticket should any writer bypass that.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    ALTER TABLE halls ADD COLUMN seating jsonb NOT NULL
      DEFAULT '{"focalDepth": 0.6, "rowWeight": 1, "refuseOrphans": false}';

    ALTER TABLE orders ADD COLUMN best jsonb;
    ALTER TABLE orders DROP CONSTRAINT orders_seat_ids_check;
    ALTER TABLE orders ADD CONSTRAINT orders_seat_ids_check
      CHECK (cardinality(seat_ids) BETWEEN 1 AND 10 OR (best IS NOT NULL AND cardinality(seat_ids) = 0));

    CREATE TABLE seat_blocks (
      showing_id bigint NOT NULL,
      hall_id bigint NOT NULL,
      seat_id bigint NOT NULL,
      reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (showing_id, seat_id),
      CONSTRAINT seat_blocks_showing_fkey FOREIGN KEY (showing_id, hall_id) REFERENCES showings (id, hall_id) ON DELETE CASCADE,
      CONSTRAINT seat_blocks_seat_fkey FOREIGN KEY (seat_id, hall_id) REFERENCES seats (id, hall_id) ON DELETE RESTRICT
    );

    CREATE FUNCTION refuse_block_on_taken_seat() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT FROM tickets t WHERE t.showing_id = NEW.showing_id AND t.seat_id = NEW.seat_id
                 AND t.status IN ('held', 'sold')) THEN
        RAISE EXCEPTION 'seat % of showing % has an active ticket', NEW.seat_id, NEW.showing_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'seat_blocks_seat_free';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER seat_blocks_seat_free BEFORE INSERT ON seat_blocks
      FOR EACH ROW EXECUTE FUNCTION refuse_block_on_taken_seat();
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    DROP TABLE seat_blocks;
    DROP FUNCTION refuse_block_on_taken_seat();
    DELETE FROM orders WHERE best IS NOT NULL AND cardinality(seat_ids) = 0;
    ALTER TABLE orders DROP CONSTRAINT orders_seat_ids_check;
    ALTER TABLE orders ADD CONSTRAINT orders_seat_ids_check CHECK (cardinality(seat_ids) BETWEEN 1 AND 10);
    ALTER TABLE orders DROP COLUMN best;
    ALTER TABLE halls DROP COLUMN seating;
  `);
}
