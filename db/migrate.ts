import type { Knex } from 'knex';
import type { Db } from './connection.js';
import * as catalogAndOrders from './migrations/001_catalog_and_orders.js';
import * as paymentService from './migrations/002_payment_service.js';
import * as paymentSaga from './migrations/003_payment_saga.js';
import * as seatVersions from './migrations/004_seat_versions.js';

// Listed statically so the same migrations run from TypeScript sources (tests) and from dist/.
const MIGRATIONS: Record<string, Knex.Migration> = {
  '001_catalog_and_orders': catalogAndOrders,
  '002_payment_service': paymentService,
  '003_payment_saga': paymentSaga,
  '004_seat_versions': seatVersions,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

export async function migrateToLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
