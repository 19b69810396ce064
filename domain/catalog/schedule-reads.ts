import { createHash } from 'node:crypto';
import type { Db } from '../../db/connection.js';
import { citiesRepository } from '../../db/repositories/cities.js';
import { readVersionsRepository } from '../../db/repositories/read-versions.js';
import { scheduleRepository, type ScheduleRow } from '../../db/repositories/schedule.js';
import { foundOr } from '../errors.js';
import { deepFreeze, type TaggedRead } from '../frozen.js';
import type { VersionProbe } from './read-versions.js';

export type ScheduleQuery = { cityId: number; date: string; filmId?: number };

/** What a schedule shows of the catalog, read in one snapshot with the catalog's version. */
type CatalogPart = { catalog: number; city: { id: number; name: string }; rows: ScheduleRow[] };

/** Schedules (city, date, film) this process keeps; the oldest go first. */
const MAX_SCHEDULES = 2_000;

export type Schedules = ReturnType<typeof createSchedules>;

/**
 * The schedules of one process. The catalog part of a schedule (cinemas, films, halls, times,
 * prices) is kept per query and catalog version. Every read asks the version probe (a statement
 * started after the request arrived) for the catalog's version and each showing's taken seats (kept
 * with its seat-map version), so a schedule is exactly what the database holds when the request
 * arrived, and the same answer is served from memory while neither changes.
 */
export function createSchedules(db: Db, versions: VersionProbe) {
  const catalogParts = new Map<string, CatalogPart>();
  // Keyed by the catalog part's row: a catalog change brings new rows, and their entries go with the old ones.
  const entries = new WeakMap<ScheduleRow, ShowingEntry>();
  const answers = new Map<string, TaggedRead<ReturnType<typeof present>>>();

  const bounded = <K, V>(map: Map<K, V>, max: number, key: K, value: V) => {
    if (!map.has(key) && map.size >= max) map.delete(map.keys().next().value!);
    map.set(key, value);
  };

  /** The catalog part for the query at the probed catalog version (read again if the catalog moved on). */
  async function catalogPartAndVersions(key: string, query: ScheduleQuery) {
    let part = catalogParts.get(key);
    let probed = await versions.of(part?.rows.map((row) => row.showingId) ?? []);
    // A catalog write between the catalog read and the probe: read both again (rare).
    while (!part || part.catalog < probed.catalog) {
      part = await readCatalogPart(db, query);
      bounded(catalogParts, MAX_SCHEDULES, key, part);
      probed = await versions.of(part.rows.map((row) => row.showingId));
    }
    return { part, probed };
  }

  return {
    async read(query: ScheduleQuery): Promise<TaggedRead<ReturnType<typeof present>>> {
      const key = `${query.cityId}/${query.date}/${query.filmId ?? ''}`;
      const { part, probed } = await catalogPartAndVersions(key, query);
      const showingIds = part.rows.map((row) => row.showingId);
      const taken = new Map(showingIds.map((id) => [id, probed.showings.get(id)!.taken]));
      // The answer changes with the catalog and with each showing's taken seats, nothing else.
      const tag = createHash('sha1')
        .update(`${part.catalog}|${showingIds.map((id) => `${id}:${taken.get(id)}`).join(',')}`)
        .digest('base64url');
      const known = answers.get(key);
      if (known?.tag === tag) return known;
      // A showing whose free seats did not change keeps its entry (and its JSON) from the last answer.
      const entry = (row: ScheduleRow) => {
        const freeSeats = row.seatCount - taken.get(row.showingId)!;
        const known = entries.get(row);
        if (known?.freeSeats === freeSeats) return known;
        const fresh = entryOf(row, freeSeats);
        entries.set(row, fresh);
        return fresh;
      };
      const answer = { value: deepFreeze(present(part, query.date, entry)), tag };
      bounded(answers, MAX_SCHEDULES, key, answer);
      return answer;
    },
  };
}

async function readCatalogPart(db: Db, query: ScheduleQuery): Promise<CatalogPart> {
  return db.transaction(
    async (trx) => {
      const city = foundOr(await citiesRepository.get(trx, query.cityId), 'CITY_NOT_FOUND', 'City', query.cityId);
      const rows = await scheduleRepository.forCityAndDate(trx, query);
      return { catalog: await readVersionsRepository.catalog(trx), city: { id: city.id, name: city.name }, rows };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/** Grouped cinema → film → showing, each showing with its free seats. */
function present(part: CatalogPart, date: string, entryOf: (row: ScheduleRow) => ShowingEntry) {
  const cinemas = new Map<number, ReturnType<typeof cinemaOf>>();
  for (const row of part.rows) {
    const cinema = cinemas.get(row.cinemaId) ?? cinemaOf(row);
    cinemas.set(row.cinemaId, cinema);
    const film = cinema.films.get(row.filmId) ?? filmOf(row);
    cinema.films.set(row.filmId, film);
    film.showings.push(entryOf(row));
  }
  return {
    cityId: part.city.id,
    cityName: part.city.name,
    date,
    cinemas: [...cinemas.values()].map((cinema) => ({ ...cinema, films: [...cinema.films.values()] })),
  };
}

const cinemaOf = (row: ScheduleRow) => ({
  cinemaId: row.cinemaId,
  name: row.cinemaName,
  address: row.cinemaAddress,
  timezone: row.timezone,
  films: new Map<number, ReturnType<typeof filmOf>>(),
});

const filmOf = (row: ScheduleRow) => ({
  filmId: row.filmId,
  title: row.filmTitle,
  durationMinutes: row.durationMinutes,
  ageRating: row.ageRating,
  showings: [] as ShowingEntry[],
});

/** One showing in a schedule, with its free seats. */
type ShowingEntry = {
  showingId: number;
  startsAt: Date;
  endsAt: Date;
  localStartTime: string;
  hallId: number;
  hallName: string;
  prices: Record<string, number>;
  currency: string;
  freeSeats: number;
};

const entryOf = (row: ScheduleRow, freeSeats: number): ShowingEntry =>
  deepFreeze({
    showingId: row.showingId,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    localStartTime: row.localStartTime,
    hallId: row.hallId,
    hallName: row.hallName,
    prices: row.prices,
    currency: row.currency,
    freeSeats,
  });
