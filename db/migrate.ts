import type { Knex } from 'knex';
import type pg from 'pg';
import { onOwnSession, underAdvisoryLock, type Db } from './connection.js';
import * as catalogAndOrders from './migrations/001_catalog_and_orders.js';
import * as paymentSaga from './migrations/003_payment_saga.js';
import * as seatVersions from './migrations/004_seat_versions.js';
import * as readVersions from './migrations/005_read_versions.js';
import * as orderRequestId from './migrations/006_order_request_id.js';
import * as seating from './migrations/007_seating.js';
import * as heldByCustomer from './migrations/008_held_by_customer.js';
import * as operatorsAndAudit from './migrations/009_operators_and_audit.js';
import * as orderClient from './migrations/010_order_client.js';
import * as salesStatistics from './migrations/011_sales_statistics.js';

/**
 * The booking system's migrations, listed statically so the same ones run from TypeScript sources
 * (tests) and from dist/. The process host adds those of the systems it serves beside it (the
 * payment simulator's 002), and every list is applied in name order.
 */
export const BOOKING_MIGRATIONS: Record<string, Knex.Migration> = {
  '001_catalog_and_orders': catalogAndOrders,
  '003_payment_saga': paymentSaga,
  '004_seat_versions': seatVersions,
  '005_read_versions': readVersions,
  '006_order_request_id': orderRequestId,
  '007_seating': seating,
  '008_held_by_customer': heldByCustomer,
  '009_operators_and_audit': operatorsAndAudit,
  '010_order_client': orderClient,
  '011_sales_statistics': salesStatistics,
};

/**
 * Applies the migrations not applied yet. Every process may call it at once: they take turns on an
 * advisory lock, and the later ones find nothing left to do. Holding that lock, no other migrator can
 * be running, so knex's lock table is reset first (one row, free): a process killed mid-migration
 * leaves it set, and an older start-up race could leave it with two rows, either of which would stop
 * every later start.
 */
export async function migrateToLatest(db: Db, migrations: Record<string, Knex.Migration>): Promise<string[]> {
  const names = Object.keys(migrations).sort();
  const migrationSource: Knex.MigrationSource<string> = {
    getMigrations: async () => names,
    getMigrationName: (name) => name,
    getMigration: async (name) => migrations[name]!,
  };
  // The pool's own settings (knex keeps them parsed): the lock's session goes to the same database.
  const { connectionSettings } = db.client as { connectionSettings: string | pg.ClientConfig };
  return onOwnSession(connectionSettings, (session) =>
    underAdvisoryLock(session, 'cinema:migrate', async () => {
      await db.migrate.forceFreeMigrationsLock({ migrationSource });
      const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
      return applied;
    }),
  );
}
