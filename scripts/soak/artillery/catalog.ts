import { connectDatabase, dropDatabase, ensureDatabase } from '../../../db/connection.js';
import { migrateToLatest } from '../../../db/migrate.js';
import { MIGRATIONS } from '../../../host/roles.js';
import { createLogger } from '../../../infra/logger.js';
import { connectRedis } from '../../../infra/redis.js';
import { seedDemoData, type DemoSize } from '../../demo-data.js';

/** The soak's catalog: a fresh database seeded in bulk (not through thousands of HTTP calls), and what is on sale in it. */

export type CatalogSize = Pick<DemoSize, 'cities' | 'cinemas' | 'hallsPerCinema' | 'days'>;

/** Where a user may look: a city and a date (in its cinemas' zone) with showings on sale far enough ahead. */
export type CityDate = { cityId: number; date: string };

/**
 * Drops and recreates the run's database, migrates and seeds it, and deletes the Redis keys of its
 * prefix: each run sells from free seats and its checks see its own orders only.
 */
export async function freshCatalog(
  databaseUrl: string,
  redis: { url: string; prefix: string },
  size: CatalogSize,
  log: (line: string) => void,
) {
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  const db = connectDatabase(databaseUrl, 2);
  try {
    await migrateToLatest(db, MIGRATIONS);
    const counts = await db.transaction((trx) =>
      seedDemoData(trx, { ...size, films: 40, showingsPerHallPerDay: 5, cleaningGapMinutes: 15 }, (line) =>
        log(`seed ${line}`),
      ),
    );
    // Statistics for the new catalog, as a database in service has.
    await db.raw('VACUUM ANALYZE cities, cinemas, halls, hall_rows, seats, films, showings, catalog_version');
    const client = connectRedis(redis.url, createLogger('warn'));
    try {
      const keys = await client.keys(`${redis.prefix}:*`);
      for (let start = 0; start < keys.length; start += 1000) await client.del(...keys.slice(start, start + 1000));
    } finally {
      await client.quit();
    }
    return counts;
  } finally {
    await db.destroy();
  }
}

/**
 * The cities and dates whose schedule lists showings starting at least `aheadMs` from now (users buy
 * those: they stay on sale and cancellable for the whole run), and how many such showings there are.
 */
export async function onSale(databaseUrl: string, aheadMs: number) {
  const db = connectDatabase(databaseUrl, 1);
  try {
    const { rows } = await db.raw<{ rows: { city_id: string; date: string; showings: string }[] }>(
      `SELECT c.city_id, to_char(s.starts_at AT TIME ZONE c.timezone, 'YYYY-MM-DD') AS date, count(*) AS showings
         FROM showings s JOIN halls h ON h.id = s.hall_id JOIN cinemas c ON c.id = h.cinema_id
        WHERE s.cancelled_at IS NULL AND s.starts_at > now() + make_interval(secs => ?)
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [aheadMs / 1000],
    );
    const cityDates: CityDate[] = rows.map((row) => ({ cityId: Number(row.city_id), date: row.date }));
    return { cityDates, showings: rows.reduce((sum, row) => sum + Number(row.showings), 0) };
  } finally {
    await db.destroy();
  }
}
