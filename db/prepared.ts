import type { Db } from './connection.js';

type PgConnection = {
  query: (config: { name: string; text: string; values: unknown[] }) => Promise<{ rows: unknown[] }>;
};

/**
 * Runs a statement of the order hot path as a named prepared statement: PostgreSQL plans it once
 * per connection instead of on every call. Inside a knex transaction the transaction's connection
 * is used (knex hands it out and does not release it).
 */
export async function runPrepared<T>(db: Db, name: string, text: string, values: unknown[]): Promise<T[]> {
  const client = db.client as {
    acquireConnection: () => Promise<PgConnection>;
    releaseConnection: (c: PgConnection) => Promise<void>;
  };
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ name, text, values })).rows as T[];
  } finally {
    await client.releaseConnection(connection);
  }
}
