import type { Db } from './connection.js';

/** Multi-row INSERTs of at most `size` rows: PostgreSQL caps a statement at 65,535 parameters. */
export async function insertInChunks(db: Db, table: string, rows: object[], size = 1000): Promise<void> {
  for (let start = 0; start < rows.length; start += size) {
    await db(table).insert(rows.slice(start, start + size));
  }
}
