import type { Db } from './connection.js';

/** Resolves when PostgreSQL answers a query on a pooled connection. */
export const pingDatabase = async (db: Db): Promise<void> => {
  await db.raw('SELECT 1');
};
