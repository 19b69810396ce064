import pRetry from 'p-retry';
import { isStoreUnavailable } from '../api/http/errors.js';
import { ensureDatabase, connectDatabase, pingDatabaseOnce } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Logger } from '../domain/ports.js';
import { pingRedisOnce } from '../infra/redis.js';
import { MIGRATIONS } from './roles.js';

/** sysexits' EX_UNAVAILABLE: a store the process needs cannot be reached. */
const STORE_UNAVAILABLE = 69;

/** The URL without its password, for a log line. */
function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * Runs `step` against a store. While the store cannot be reached (restarting, not up yet), tries
 * again for up to `waitSeconds`, saying so once; then says so in one line and exits 69 instead of a
 * stack trace (an orchestrator restarts the process; a person reads the line).
 */
async function orExitWhenUnreachable<T>(
  store: string,
  url: string,
  waitSeconds: number,
  log: Logger,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await pRetry(step, {
      retries: Number.POSITIVE_INFINITY,
      maxRetryTime: waitSeconds * 1000,
      minTimeout: 200,
      maxTimeout: 2_000,
      shouldRetry: ({ error }) => waitSeconds > 0 && isStoreUnavailable(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber === 1 && waitSeconds > 0 && isStoreUnavailable(error)) {
          log.warn(
            { store, url: shown(url), reason: error.message, waitSeconds },
            `${store} cannot be reached; waiting for it`,
          );
        }
      },
    });
  } catch (error) {
    if (!isStoreUnavailable(error)) throw error;
    log.error({ store, url: shown(url), reason: (error as Error).message }, `${store} cannot be reached; exiting`);
    process.exit(STORE_UNAVAILABLE);
  }
}

/** Creates the database if it is missing and applies the migrations; safe to run from many processes at once. */
export function migrateDatabase(databaseUrl: string, waitSeconds: number, log: Logger): Promise<void> {
  return orExitWhenUnreachable('PostgreSQL', databaseUrl, waitSeconds, log, async () => {
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
  config: { DATABASE_URL: string; REDIS_URL: string; MIGRATE_ON_START: boolean; STORE_WAIT_SECONDS: number },
  log: Logger,
): Promise<void> {
  const wait = config.STORE_WAIT_SECONDS;
  await orExitWhenUnreachable('Redis', config.REDIS_URL, wait, log, () => pingRedisOnce(config.REDIS_URL));
  if (config.MIGRATE_ON_START) await migrateDatabase(config.DATABASE_URL, wait, log);
  else
    await orExitWhenUnreachable('PostgreSQL', config.DATABASE_URL, wait, log, () =>
      pingDatabaseOnce(config.DATABASE_URL),
    );
}
