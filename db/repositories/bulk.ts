import { insertInChunks } from '../chunks.js';
import type { Db } from '../connection.js';

/** Bulk writes for seeding and benchmarks: many rows per statement, no per-row round trips. */
export const bulkRepository = {
  catalogIsEmpty: async (db: Db): Promise<boolean> => !(await db('cities').first('id')),

  /**
   * Every table of these schemas (the ones the deployment's migrations create) but the migrations' own,
   * the catalog's version (running processes compare their caches against it: it must never go back),
   * the audit log (append-only: its trigger refuses a TRUNCATE; its entries before a reset name rows
   * of before it) and those an extension owns. Only for a deliberate --reset.
   */
  truncateAll: async (db: Db, schemas: string[]) => {
    const { rows } = await db.raw(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(?) AND c.relname NOT LIKE 'knex\\_migrations%' AND c.relname NOT IN ('catalog_version', 'audit_log')
         AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')`,
      [schemas],
    );
    const tables = (rows as { name: string }[]).map((row) => row.name);
    if (tables.length > 0) await db.raw(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY`);
  },

  /** A transaction-scoped advisory lock, so that two instances starting at once do not both seed. */
  lockSeeding: (trx: Db) => trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['seed-demo-data']),

  insertCities: (db: Db, names: string[]): Promise<{ id: number; name: string }[]> =>
    db('cities')
      .insert(names.map((name) => ({ name })))
      .returning(['id', 'name']),

  insertCinemas: (
    db: Db,
    cinemas: {
      cityId: number;
      name: string;
      address: string;
      timezone: string;
      currency: string;
      defaultPrices: Record<string, number>;
    }[],
  ): Promise<{ id: number; timezone: string; defaultPrices: Record<string, number> }[]> =>
    db('cinemas')
      .insert(
        cinemas.map((cinema) => ({
          city_id: cinema.cityId,
          name: cinema.name,
          address: cinema.address,
          timezone: cinema.timezone,
          currency: cinema.currency,
          default_prices: JSON.stringify(cinema.defaultPrices),
        })),
      )
      .returning(['id', 'timezone', 'default_prices as defaultPrices']),

  insertFilms: (
    db: Db,
    films: { title: string; durationMinutes: number; ageRating: string; description: string }[],
  ): Promise<{ id: number; durationMinutes: number }[]> =>
    db('films')
      .insert(
        films.map((film) => ({
          title: film.title,
          duration_minutes: film.durationMinutes,
          age_rating: film.ageRating,
          description: film.description,
        })),
      )
      .returning(['id', 'duration_minutes as durationMinutes']),

  insertShowings: async (
    db: Db,
    showings: {
      hallId: number;
      filmId: number;
      startsAt: Date;
      endsAt: Date;
      blockedUntil: Date;
      prices: Record<string, number>;
      currency: string;
    }[],
  ): Promise<number> => {
    const rows = showings.map((showing) => ({
      hall_id: showing.hallId,
      film_id: showing.filmId,
      starts_at: showing.startsAt,
      ends_at: showing.endsAt,
      blocked_until: showing.blockedUntil,
      prices: JSON.stringify(showing.prices),
      currency: showing.currency,
    }));
    await insertInChunks(db, 'showings', rows);
    return rows.length;
  },
};
