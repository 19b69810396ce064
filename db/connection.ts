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

/**
 * `onTrouble`, when given, hears knex's own warnings (a connection that could not be made, each with
 * a stack trace on the console otherwise): a long-running process logs them, a few lines while
 * PostgreSQL is away. Short-lived scripts keep knex's console.
 * `statementTimeoutMs`, when given, is each session's statement_timeout: PostgreSQL cancels a
 * statement running (or waiting for a lock) longer, and the caller gets SQLSTATE 57014. Migrations,
 * seeding and scripts connect without one.
 */
export function connectDatabase(
  databaseUrl: string,
  poolMax: number,
  { onTrouble, statementTimeoutMs }: { onTrouble?: (message: string) => void; statementTimeoutMs?: number } = {},
): Db {
  const report = (message: unknown) => onTrouble?.(message instanceof Error ? message.message : String(message));
  return knex({
    client: 'pg',
    connection: statementTimeoutMs
      ? { connectionString: databaseUrl, statement_timeout: statementTimeoutMs }
      : databaseUrl,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    ...(onTrouble ? { log: { warn: report, error: report, deprecate: report, debug: () => {} } } : {}),
  });
}

async function withClient<T>(
  connection: string | pg.ClientConfig,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function withMaintenanceClient<T>(
  databaseUrl: string,
  work: (client: pg.Client, databaseName: string) => Promise<T>,
): Promise<T> {
  const url = new URL(databaseUrl);
  const databaseName = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  return withClient(url.toString(), (client) => work(client, databaseName));
}

/**
 * Runs `work` while this session holds the advisory lock named `key`: processes that start together
 * wait for each other here instead of racing (two CREATE DATABASE of one name collide on a unique
 * index, not on "already exists"; concurrent knex migrators fail with MigrationLocked).
 */
export async function underAdvisoryLock<T>(client: pg.Client, key: string, work: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
  try {
    return await work();
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
  }
}

/** Creates the database named in the URL when it does not exist yet; one creator at a time. */
export function ensureDatabase(databaseUrl: string): Promise<boolean> {
  return withMaintenanceClient(databaseUrl, (client, name) =>
    underAdvisoryLock(client, `cinema:create-database:${name}`, async () => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount) return false;
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      return true;
    }),
  );
}

/** Resolves when the database of `databaseUrl` accepts a session and answers; rejects at once otherwise. */
export const pingDatabaseOnce = (databaseUrl: string) =>
  withClient(databaseUrl, async (client) => {
    await client.query('SELECT 1');
  });

/** Runs `work` on a session of its own in the database of `databaseUrl`. */
export const onOwnSession = withClient;

export function dropDatabase(databaseUrl: string): Promise<void> {
  return withMaintenanceClient(databaseUrl, async (client, name) => {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  });
}
