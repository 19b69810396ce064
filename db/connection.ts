import knex, { type Knex } from 'knex';
import pg from 'pg';

// bigint ids and counts fit in a JS number for this system's lifetime; numeric stays a string.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// bigint[] (oid 1016, absent from pg's builtins list) likewise comes back as numbers.
const INT8_ARRAY = 1016 as (typeof pg.types.builtins)[keyof typeof pg.types.builtins];
const parseInt8Array = pg.types.getTypeParser(INT8_ARRAY) as (value: string) => (string | null)[];
pg.types.setTypeParser(INT8_ARRAY, (value: string) =>
  parseInt8Array(value).map((item) => (item === null ? null : Number(item))),
);

export type Db = Knex;

export function connectDatabase(databaseUrl: string, poolMax: number): Db {
  return knex({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
  });
}

async function withMaintenanceClient<T>(
  databaseUrl: string,
  work: (client: pg.Client, databaseName: string) => Promise<T>,
): Promise<T> {
  const url = new URL(databaseUrl);
  const databaseName = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client, databaseName);
  } finally {
    await client.end();
  }
}

/** Creates the database named in the URL when it does not exist yet. */
export function ensureDatabase(databaseUrl: string): Promise<boolean> {
  return withMaintenanceClient(databaseUrl, async (client, name) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      // Another instance starting at the same moment created it first.
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
    return true;
  });
}

export function dropDatabase(databaseUrl: string): Promise<void> {
  return withMaintenanceClient(databaseUrl, async (client, name) => {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  });
}
