import type { Knex } from 'knex';

/**
 * The X-Request-Id of the request that submitted each order, so the logs of every process that
 * handles the order (the allocation's decision, the payment saga, the realtime push) can name it.
 * Nullable: orders from before, and orders written outside the intake, have none. Adding a nullable
 * column without a default rewrites nothing, so it is instant on a table in service.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE orders ADD COLUMN request_id text');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE orders DROP COLUMN request_id');
}
