import type { Knex } from 'knex';

/**
 * Versions that let readers know, with one small query, whether what they cached is still exact.
 *
 * - `catalog_version`: one row, bumped once by every statement that writes the catalog (a city, a
 *   cinema, a hall and its rows and seats, a film, a showing's place, time, prices or cancellation),
 *   never by a sale: a seat-version bump sets no column these triggers watch. Catalog writes are an
 *   admin's, a handful a minute, so the one row is no point of contention.
 * - `orders.version`: bumped by every update of the order, in the trigger that already stamps
 *   `updated_at` (one trigger call per row, as before). `updated_at` is the transaction's start time,
 *   so of two overlapping writers the later may stamp the earlier time; the version always grows.
 */
const CATALOG_TABLES = ['cities', 'cinemas', 'halls', 'hall_rows', 'seats', 'films'];
const SHOWING_CATALOG_COLUMNS = 'hall_id, film_id, starts_at, ends_at, blocked_until, prices, currency, cancelled_at';

export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE catalog_version (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      version bigint NOT NULL
    );
    INSERT INTO catalog_version (version) VALUES (1);
    CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE catalog_version SET version = version + 1; RETURN NULL; END $$;

    CREATE TRIGGER showings_catalog_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF ${SHOWING_CATALOG_COLUMNS}
      ON showings FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

    ALTER TABLE showings ADD COLUMN taken_seats integer NOT NULL DEFAULT 0 CHECK (taken_seats >= 0);
    UPDATE showings s SET taken_seats = active.taken
    FROM (SELECT showing_id, count(*) AS taken FROM tickets WHERE status IN ('held', 'sold') GROUP BY showing_id) active
    WHERE active.showing_id = s.id;

    ALTER TABLE orders ADD COLUMN version bigint NOT NULL DEFAULT 1;
    CREATE FUNCTION touch_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN NEW.updated_at := now(); NEW.version := OLD.version + 1; RETURN NEW; END $$;
    DROP TRIGGER orders_updated_at ON orders;
    CREATE TRIGGER orders_touched BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_order();
  `);
  for (const table of CATALOG_TABLES) {
    await db.raw(
      `CREATE TRIGGER ${table}_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
       FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()`,
    );
  }
}

export async function down(db: Knex): Promise<void> {
  for (const table of [...CATALOG_TABLES, 'showings']) {
    await db.raw(`DROP TRIGGER IF EXISTS ${table}_catalog_version ON ${table}`);
  }
  await db.raw(`
    DROP TRIGGER orders_touched ON orders;
    CREATE TRIGGER orders_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    DROP FUNCTION touch_order();
    ALTER TABLE orders DROP COLUMN version;
    ALTER TABLE showings DROP COLUMN taken_seats;
    DROP TABLE catalog_version;
    DROP FUNCTION bump_catalog_version();
  `);
}
