import type { Knex } from 'knex';

/**
 * The client address an order was submitted from, as a keyed digest (the cap on seats held per
 * address compares addresses, it never needs to read one back): `client_key`. Indexed like the
 * held-by-customer index, for the one lookup per order the allocation makes while the cap applies.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    ALTER TABLE orders ADD COLUMN client_key text;
    CREATE INDEX orders_held_by_client_idx ON orders (showing_id, client_key)
      WHERE status = 'awaiting_payment' AND client_key IS NOT NULL;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP INDEX orders_held_by_client_idx; ALTER TABLE orders DROP COLUMN client_key');
}
