import { insertInChunks } from '../chunks.js';
import type { Db } from '../connection.js';

/** Bulk writes for seeding and benchmarks: many rows per statement, no per-row round trips. */
export const bulkRepository = {
  catalogIsEmpty: async (db: Db): Promise<boolean> => !(await db('cities').first('id')),

  /**
   * Every table of every schema but the migrations' own: catalog, sales, and the tables of whatever
   * system shares the database (the payment simulator's). Only for a deliberate --reset.
   */
  truncateAll: async (db: Db) => {
    const { rows } = await db.raw(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename NOT LIKE 'knex\\_migrations%'`,
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
