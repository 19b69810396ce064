import { ensureDatabase, connectDatabase, pingDatabaseOnce } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Logger } from '../domain/ports.js';
import { pingRedisOnce } from '../infra/redis.js';
import { MIGRATIONS } from './roles.js';

/** sysexits' EX_UNAVAILABLE: a store the process needs cannot be reached. */
const STORE_UNAVAILABLE = 69;

/** Errors that mean "cannot reach or use this store", as opposed to a bug: node's socket errors and PostgreSQL's connection refusals. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P03', // the database system is starting up / shutting down
  '3D000', // the database does not exist
  '28P01', // password authentication failed
  '28000', // no pg_hba.conf entry
]);

function isUnreachable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  // ioredis with no reconnecting rejects with this message, without a code.
  return /Connection is closed|connect ETIMEDOUT|Reached the max retries/i.test(message ?? '');
}

/** The URL without its password, for a log line. */
function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * Runs `step` against a store; when the store cannot be reached, says so in one line and exits 69
 * instead of a stack trace (an orchestrator restarts the process; a person reads the line).
 */
async function orExitWhenUnreachable<T>(store: string, url: string, log: Logger, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    log.error({ store, url: shown(url), reason: (error as Error).message }, `${store} cannot be reached; exiting`);
    process.exit(STORE_UNAVAILABLE);
  }
}

/** Creates the database if it is missing and applies the migrations; safe to run from many processes at once. */
export function migrateDatabase(databaseUrl: string, log: Logger): Promise<void> {
  return orExitWhenUnreachable('PostgreSQL', databaseUrl, log, async () => {
    if (await ensureDatabase(databaseUrl)) log.info('created database');
    const db = connectDatabase(databaseUrl, 2);
    try {
      const applied = await migrateToLatest(db, MIGRATIONS);
      if (applied.length > 0) log.info({ applied }, 'migrated');
    } finally {
      await db.destroy();
    }
  });
}

/** Before the roles start: both stores answer, and the schema is there (migrated here unless a migrate step does it). */
export async function prepareStores(
  config: { DATABASE_URL: string; REDIS_URL: string; MIGRATE_ON_START: boolean },
  log: Logger,
): Promise<void> {
  await orExitWhenUnreachable('Redis', config.REDIS_URL, log, () => pingRedisOnce(config.REDIS_URL));
  if (config.MIGRATE_ON_START) await migrateDatabase(config.DATABASE_URL, log);
  else await orExitWhenUnreachable('PostgreSQL', config.DATABASE_URL, log, () => pingDatabaseOnce(config.DATABASE_URL));
}
