import type { Db } from '../../db/connection.js';
import { citiesRepository } from '../../db/repositories/cities.js';
import { readVersionsRepository } from '../../db/repositories/read-versions.js';
import { scheduleRepository, type ScheduleRow } from '../../db/repositories/schedule.js';
import { setBounded } from '../bounded.js';
import { foundOr } from '../errors.js';
import { deepFreeze, type TaggedRead } from '../frozen.js';
import type { VersionProbe } from './read-versions.js';

export type ScheduleQuery = { cityId: number; date: string; filmId?: number };

/** What a schedule shows of the catalog, read in one snapshot with the catalog's version. */
type CatalogPart = {
  catalog: number;
  city: { id: number; name: string };
  rows: ScheduleRow[];
  /** The rows' showings, one array for every probe of this part. */
  showingIds: number[];
};

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

  /** The catalog part for the query at the probed catalog version (read again if the catalog moved on). */
  async function catalogPartAndVersions(key: string, query: ScheduleQuery) {
    let part = catalogParts.get(key);
    let probed = await versions.of(part?.showingIds ?? []);
    // A catalog write between the catalog read and the probe: read both again (rare).
    while (!part || part.catalog < probed.catalog) {
      part = await readCatalogPart(db, query);
      setBounded(catalogParts, MAX_SCHEDULES, key, part);
      probed = await versions.of(part.showingIds);
    }
    return { part, probed };
  }

  return {
    async read(query: ScheduleQuery): Promise<TaggedRead<ReturnType<typeof present>>> {
      const key = `${query.cityId}/${query.date}/${query.filmId ?? ''}`;
      const { part, probed } = await catalogPartAndVersions(key, query);
      // The answer changes with the catalog and with its showings' seats, nothing else; a showing's
      // seat version only grows, so with the set of showings fixed by the catalog version, the sum
      // of their seat versions names the state (a change that left the free seats as they were
      // changes the tag too: a 200 where a 304 would do, never the reverse).
      let seatVersions = 0;
      for (const row of part.rows) seatVersions += probed.showings.get(row.showingId)!.seatVersion;
      const tag = `${part.catalog}-${seatVersions}`;
      const known = answers.get(key);
      if (known?.tag === tag) return known;
      // A showing whose free seats did not change keeps its entry (and its JSON) from the last answer.
      const entry = (row: ScheduleRow) => {
        const freeSeats = row.seatCount - probed.showings.get(row.showingId)!.taken;
        const known = entries.get(row);
        if (known?.freeSeats === freeSeats) return known;
        const fresh = entryOf(row, freeSeats);
        entries.set(row, fresh);
        return fresh;
      };
      const answer = { value: present(part, query.date, entry), tag };
      setBounded(answers, MAX_SCHEDULES, key, answer);
      return answer;
    },
  };
}

async function readCatalogPart(db: Db, query: ScheduleQuery): Promise<CatalogPart> {
  return db.transaction(
    async (trx) => {
      const city = foundOr(await citiesRepository.get(trx, query.cityId), 'CITY_NOT_FOUND', 'City', query.cityId);
      const rows = await scheduleRepository.forCityAndDate(trx, query);
      return {
        catalog: await readVersionsRepository.catalog(trx),
        city: { id: city.id, name: city.name },
        rows,
        showingIds: rows.map((row) => row.showingId),
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

type FilmGroup = { film: Omit<ReturnType<typeof filmOf>, 'showings'>; rows: ScheduleRow[] };
type CinemaGroup = { cinema: Omit<ReturnType<typeof cinemaOf>, 'films'>; films: FilmGroup[] };
type Presented<T> = { parts: readonly unknown[]; value: T };

/** The catalog part grouped cinema → film → showing rows, once per catalog part. */
const groupings = new WeakMap<CatalogPart, CinemaGroup[]>();
/** The last frozen answer part of each group, with the parts it was made of. */
const lastFilms = new WeakMap<FilmGroup, Presented<FilmAnswer>>();
const lastCinemas = new WeakMap<CinemaGroup, Presented<CinemaAnswer>>();

type FilmAnswer = FilmGroup['film'] & { showings: ShowingEntry[] };
type CinemaAnswer = CinemaGroup['cinema'] & { films: FilmAnswer[] };

function groupingOf(part: CatalogPart): CinemaGroup[] {
  let grouping = groupings.get(part);
  if (grouping) return grouping;
  const cinemas = new Map<number, CinemaGroup>();
  for (const row of part.rows) {
    const cinema = cinemas.get(row.cinemaId) ?? { cinema: cinemaOf(row), films: [] };
    cinemas.set(row.cinemaId, cinema);
    let film = cinema.films.at(-1);
    if (film?.film.filmId !== row.filmId) cinema.films.push((film = { film: filmOf(row), rows: [] }));
    film.rows.push(row);
  }
  grouping = [...cinemas.values()];
  groupings.set(part, grouping);
  return grouping;
}

/** The last frozen value made of exactly these parts, or a new one frozen and kept. */
function reused<G extends object, T>(
  last: WeakMap<G, Presented<T>>,
  group: G,
  parts: readonly unknown[],
  make: () => T,
): T {
  const known = last.get(group);
  if (known && known.parts.length === parts.length && known.parts.every((item, index) => item === parts[index])) {
    return known.value;
  }
  const value = deepFreeze(make());
  last.set(group, { parts, value });
  return value;
}

/**
 * Grouped cinema → film → showing, each showing with its free seats. A film or cinema none of whose
 * showings changed is the same frozen object as in the last answer, so its JSON is kept too.
 */
function present(part: CatalogPart, date: string, entryOf: (row: ScheduleRow) => ShowingEntry) {
  const cinemas = groupingOf(part).map((cinemaGroup) => {
    const films = cinemaGroup.films.map((filmGroup) => {
      const showings = filmGroup.rows.map(entryOf);
      return reused(lastFilms, filmGroup, showings, () => ({ ...filmGroup.film, showings }));
    });
    return reused(lastCinemas, cinemaGroup, films, () => ({ ...cinemaGroup.cinema, films }));
  });
  return deepFreeze({ cityId: part.city.id, cityName: part.city.name, date, cinemas });
}

const cinemaOf = (row: ScheduleRow) => ({
  cinemaId: row.cinemaId,
  name: row.cinemaName,
  address: row.cinemaAddress,
  timezone: row.timezone,
});

const filmOf = (row: ScheduleRow) => ({
  filmId: row.filmId,
  title: row.filmTitle,
  durationMinutes: row.durationMinutes,
  ageRating: row.ageRating,
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
