import { citiesRepository } from '../../db/repositories/cities.js';
import { scheduleRepository, type ScheduleRow } from '../../db/repositories/schedule.js';
import { showingsRepository } from '../../db/repositories/showings.js';
import type { Deps } from '../context.js';
import { foundOr } from '../errors.js';

/**
 * A city's showings on a calendar date, grouped cinema → film → showing. The date is read in each
 * cinema's own time zone, so a late show in one zone is not moved to the next day by another's.
 */
export const getSchedule = async ({ db }: Deps, request: { cityId: number; date: string; filmId?: number }) => {
  const city = foundOr(await citiesRepository.get(db, request.cityId), 'CITY_NOT_FOUND', 'City', request.cityId);
  const rows = await scheduleRepository.forCityAndDate(db, request);
  const taken = await showingsRepository.takenSeatCounts(
    db,
    rows.map((row) => row.showingId),
  );
  return { cityId: city.id, cityName: city.name, date: request.date, cinemas: groupByCinemaAndFilm(rows, taken) };
};

function groupByCinemaAndFilm(rows: ScheduleRow[], taken: Map<number, number>) {
  const cinemas = new Map<number, ReturnType<typeof cinemaOf>>();
  for (const row of rows) {
    const cinema = cinemas.get(row.cinemaId) ?? cinemaOf(row);
    cinemas.set(row.cinemaId, cinema);
    const film = cinema.films.get(row.filmId) ?? filmOf(row);
    cinema.films.set(row.filmId, film);
    film.showings.push({
      showingId: row.showingId,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      localStartTime: row.localStartTime,
      hallId: row.hallId,
      hallName: row.hallName,
      prices: row.prices,
      currency: row.currency,
      freeSeats: row.seatCount - (taken.get(row.showingId) ?? 0),
    });
  }
  return [...cinemas.values()].map((cinema) => ({ ...cinema, films: [...cinema.films.values()] }));
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
  showings: [] as {
    showingId: number;
    startsAt: Date;
    endsAt: Date;
    localStartTime: string;
    hallId: number;
    hallName: string;
    prices: Record<string, number>;
    currency: string;
    freeSeats: number;
  }[],
});
