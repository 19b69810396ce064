import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectDatabase, ensureDatabase, type Db } from '../../db/connection.js';
import { migrateToLatest } from '../../db/migrate.js';
import { bulkRepository } from '../../db/repositories/bulk.js';
import { retryingDeadlock } from '../../db/violations.js';
import { parseConfig, RATE_LIMITS_OFF } from '../../host/config.js';
import { DATA_SCHEMAS, MIGRATIONS } from '../../host/roles.js';
import { createLogger } from '../../infra/logger.js';
import { connectRedis } from '../../infra/redis.js';
import { seedDemoData } from '../demo-data.js';
import type { jsonClient } from './load.js';

/** What the load scripts share: the bench database, the services they start, the showings they buy. */

export const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist\/?$/, '');
export const log = (line: string) => console.error(`[bench] ${line}`);

/**
 * A benchmark's database (cinema_<name>) and Redis prefix (<name>), unless BENCH_DATABASE_URL and
 * BENCH_REDIS_PREFIX say otherwise. Another prefix lets two benchmarks share one Redis without
 * draining each other's queues.
 */
export const benchStores = (name: string) =>
  parseConfig({
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/cinema_${name}`,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: process.env.BENCH_REDIS_PREFIX ?? name,
    LOG_LEVEL: 'warn',
  });
export type Stores = Pick<ReturnType<typeof benchStores>, 'DATABASE_URL' | 'REDIS_URL' | 'REDIS_PREFIX'>;

export const config = benchStores('bench');
export const ADMIN_TOKEN = 'bench-admin-token-0123456789-abcdefghij';

/** Deletes every Redis key under the stores' prefix, as left by an earlier run. */
export async function clearRedisPrefix(stores: Stores) {
  const redis = connectRedis(stores.REDIS_URL, createLogger('warn'));
  const keys = await redis.keys(`${stores.REDIS_PREFIX}:*`);
  for (let start = 0; start < keys.length; start += 1000) await redis.del(...keys.slice(start, start + 1000));
  await redis.quit();
}

/**
 * Reseeds the bench database (10 cities, 100 cinemas, ~2,900 showings over `days` 2) and empties the
 * bench's Redis keys.
 */
export async function prepareDatabase(stores: Stores = config, { days = 2 }: { days?: number } = {}) {
  await ensureDatabase(stores.DATABASE_URL);
  const db = connectDatabase(stores.DATABASE_URL, 4);
  await migrateToLatest(db, MIGRATIONS);
  await db.transaction(async (trx) => {
    await bulkRepository.truncateAll(trx, DATA_SCHEMAS);
    const counts = await seedDemoData(
      trx,
      {
        cities: 10,
        cinemas: 100,
        hallsPerCinema: 3,
        films: 40,
        days,
        showingsPerHallPerDay: 5,
        cleaningGapMinutes: 15,
      },
      (line) => log(`seed ${line}`),
    );
    log(`seeded ${JSON.stringify(counts)}`);
  });
  // Statistics for the new catalog, as a database in service has. Not for the emptied orders and
  // tickets: stats saying "empty" would mislead the planner once the run fills them.
  await db.raw('VACUUM ANALYZE cities, cinemas, halls, hall_rows, seats, films, showings, catalog_version');
  await clearRedisPrefix(stores);
  return db;
}

/**
 * Empties the order tables, so the next step sells from free seats as the first one does. TRUNCATE
 * leaves their statistics unknown, and the planner then sizes them from their pages as they fill.
 * A sweep of the worker may hold a lock on one of the tables meanwhile: a deadlock is tried again.
 */
export const emptyOrderTables = (db: Awaited<ReturnType<typeof prepareDatabase>>) =>
  retryingDeadlock(() => db.raw('TRUNCATE orders, tickets, payments'), 3);

/**
 * Starts dist/scripts/start.js with these roles; resolves once /readyz answers. `env` adds settings;
 * its log lines go to `logFile` when given (services that log every request would flood the terminal).
 */
export function startRole(
  roles: string,
  port: number,
  env: Record<string, string> = {},
  extraNodeArgs: string[] = [],
  logFile?: string,
): Promise<ChildProcess> {
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the services under load.
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...extraNodeArgs];
  const child = spawn(process.execPath, [...nodeArgs, `${root}/dist/scripts/start.js`], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      REDIS_PREFIX: config.REDIS_PREFIX,
      ADMIN_TOKEN,
      ORDER_TOKEN_SECRET: 'bench-order-token-secret-0123-abcdefghij',
      PAYMENT_SERVICE_KEY: 'bench-payment-service-key-0123-abcdefghij',
      // Production refuses to guess where the card processor is, and to run the simulator unasked.
      PAYMENT_SERVICE_URL: `http://127.0.0.1:${port}/api/v1`,
      PAYMENT_SIMULATOR_ALLOWED: 'true',
      ROLES: roles,
      PORT: String(port),
      SEED_WHEN_EMPTY: 'false',
      LOG_LEVEL: 'warn',
      // The load comes from one address.
      ...RATE_LIMITS_OFF,
      ...env,
    },
    stdio: ['ignore', logFile ? openSync(logFile, 'w') : 'inherit', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const probe = async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (response.ok) return resolve(child);
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`${roles} did not become ready`));
      setTimeout(probe, 200);
    };
    void probe();
  });
}

export type Target = { showingId: number; seatIds: number[] };

/** The first `count` showings on sale an hour or more ahead, with their halls' seat ids. */
export async function loadTargets(client: ReturnType<typeof jsonClient>, count: number): Promise<Target[]> {
  const showings: { id: number; hallId: number }[] = [];
  let cursor: string | undefined;
  // Showings that stay on sale for the whole run (an hour ahead), or their orders get SHOWING_NOT_ON_SALE.
  const from = new Date(Date.now() + 3_600_000).toISOString();
  while (showings.length < count) {
    const page = await client.request(
      'GET',
      `/api/v1/showings?limit=200&from=${from}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    showings.push(...page.body.data);
    cursor = page.body.nextCursor;
    if (!cursor) break;
  }
  const seatsByHall = new Map<number, number[]>();
  for (const hallId of new Set(showings.map((showing) => showing.hallId))) {
    const hall = await client.request('GET', `/api/v1/halls/${hallId}`);
    seatsByHall.set(
      hallId,
      hall.body.layout.rows.flatMap((row: { seats: { id: number }[] }) => row.seats.map((seat) => seat.id)),
    );
  }
  return showings
    .slice(0, count)
    .map((showing) => ({ showingId: showing.id, seatIds: seatsByHall.get(showing.hallId)! }));
}

/**
 * The one-transaction-per-request reference (scripts/bench/naive-peer.ts) as its own process, on this
 * benchmark's database; resolves once it listens.
 */
export function startPeer(port: number, pool = 16): Promise<ChildProcess> {
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, `${root}/dist/scripts/bench/naive-peer.js`], {
    env: { ...process.env, PEER_DATABASE_URL: config.DATABASE_URL, PEER_PORT: String(port), PEER_POOL: String(pool) },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      if (chunk.toString().includes('listening')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`peer exited (${code})`)));
  });
}

/** Writes a benchmark's result to docs/benchmarks/<name>-latest.json, and prints it (or the part given). */
export function writeLatest(name: string, result: unknown, printed: unknown = result) {
  mkdirSync(`${root}/docs/benchmarks`, { recursive: true });
  writeFileSync(`${root}/docs/benchmarks/${name}-latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(printed, null, 2));
}

/**
 * The reference every load figure is a ratio to: pgbench running the shared one-transaction-per-order
 * script (insert an order and two tickets, update it) on the given database, in a schema of its own.
 */
export function measurePgbenchBaseline(databaseUrl: string, seconds: number): number {
  const url = new URL(databaseUrl);
  const env = { ...process.env, PGOPTIONS: '-c search_path=bench_baseline' };
  const connection = ['-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres'];
  const database = url.pathname.slice(1);
  execFileSync(
    'psql',
    [
      ...connection,
      '-q',
      '-d',
      database,
      '-c',
      'DROP SCHEMA IF EXISTS bench_baseline CASCADE; CREATE SCHEMA bench_baseline',
    ],
    { env },
  );
  execFileSync('psql', [...connection, '-q', '-d', database, '-f', `${root}/scripts/bench/baseline-schema.sql`], {
    env,
  });
  const output = execFileSync(
    'pgbench',
    [
      ...connection,
      '-n',
      '-M',
      'prepared',
      '-c',
      '16',
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      `${root}/scripts/bench/baseline-order-per-tx.sql`,
      database,
    ],
    { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tps = Number(output.match(/tps = ([\d.]+)/)?.[1]);
  execFileSync('psql', [...connection, '-q', '-d', database, '-c', 'DROP SCHEMA bench_baseline CASCADE'], { env });
  return tps;
}

/**
 * Autovacuum's analyze, for this machine's PostgreSQL, where autovacuum is off: every few seconds,
 * each table changed by more than 50 rows + 10 % of its rows since it was last analysed is analysed
 * (autovacuum_analyze_threshold and _scale_factor at their defaults), as it would be in service.
 * Without it the 10,000-user soak planned payments and cancellations against a `tickets` table never
 * analysed: a bitmap over the whole partial index of active tickets (81,831 entries) for each, about
 * 10,500 index entries read per statement on average, PostgreSQL at 42 % of a core for 47 orders/s.
 * Returns its stop.
 */
export function analyzeLikeAutovacuum(databaseUrl: string, everyMs = 5_000): () => Promise<void> {
  const db = connectDatabase(databaseUrl, 1);
  const analyzeChanged = async () => {
    const { rows } = await db.raw(
      `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables
       WHERE n_mod_since_analyze > 50 + 0.1 * n_live_tup`,
    );
    for (const { name } of rows as { name: string }[]) await db.raw(`ANALYZE ${name}`);
  };
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(analyzeChanged).catch((error: Error) => log(`analyze: ${error.message}`));
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await running;
    await db.destroy();
  };
}

/**
 * What the database holds for a benchmark's showing: seats with more than one active ticket, seats
 * sold, orders that got fewer seats than they name, orders left queued.
 */
export async function auditShowingSales(db: Db, showingId: number) {
  const { rows } = await db.raw(
    `SELECT
       (SELECT count(*) FROM (SELECT seat_id FROM tickets WHERE showing_id = :id AND status IN ('held', 'sold')
                              GROUP BY seat_id HAVING count(*) > 1) d)::int AS "doubleSold",
       (SELECT count(DISTINCT seat_id) FROM tickets WHERE showing_id = :id AND status IN ('held', 'sold'))::int AS "seatsSold",
       (SELECT count(*) FROM orders o WHERE showing_id = :id AND status IN ('confirmed', 'awaiting_payment')
          AND cardinality(seat_ids) <> (SELECT count(*) FROM tickets t WHERE t.order_id = o.id
                                        AND t.status IN ('held', 'sold')))::int AS "partialOrders",
       (SELECT count(*) FROM orders WHERE showing_id = :id AND status = 'queued')::int AS "stillQueued"`,
    { id: showingId },
  );
  return rows[0] as Record<'doubleSold' | 'seatsSold' | 'partialOrders' | 'stillQueued', number>;
}
