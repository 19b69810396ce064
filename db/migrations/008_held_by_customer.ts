import type { Knex } from 'knex';

/**
 * The seats a customer holds unpaid in a showing, found by an index lookup per order the allocation
 * decides (the cap on held seats per customer). Only orders awaiting payment are in it.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(
    `CREATE INDEX orders_held_by_customer_idx ON orders (showing_id, lower(customer_email)) WHERE status = 'awaiting_payment'`,
  );
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP INDEX orders_held_by_customer_idx');
}
