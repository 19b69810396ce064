import type { Db } from '../connection.js';
import type { Prices } from './cinemas.js';
import { STARTS_ON_LOCAL_DATE } from './showings.js';

export type ScheduleRow = {
  showingId: number;
  startsAt: Date;
  endsAt: Date;
  localStartTime: string;
  prices: Prices;
  currency: string;
  hallId: number;
  hallName: string;
  seatCount: number;
  cinemaId: number;
  cinemaName: string;
  cinemaAddress: string | null;
  timezone: string;
  filmId: number;
  filmTitle: string;
  durationMinutes: number;
  ageRating: string | null;
};

export const scheduleRepository = {
  /** One city's live showings on a local date, ordered for grouping by cinema, then film, then time. */
  forCityAndDate: (
    db: Db,
    { cityId, date, filmId }: { cityId: number; date: string; filmId?: number },
  ): Promise<ScheduleRow[]> => {
    const query = db({ c: 'cinemas' })
      .join({ h: 'halls' }, 'h.cinema_id', 'c.id')
      .join({ s: 'showings' }, 's.hall_id', 'h.id')
      .join({ f: 'films' }, 'f.id', 's.film_id')
      .where('c.city_id', cityId)
      .whereNull('s.cancelled_at')
      .whereRaw(STARTS_ON_LOCAL_DATE, [date, date])
      .select(
        's.id as showingId',
        's.starts_at as startsAt',
        's.ends_at as endsAt',
        db.raw(`to_char(s.starts_at AT TIME ZONE c.timezone, 'HH24:MI') AS "localStartTime"`),
        's.prices',
        's.currency',
        'h.id as hallId',
        'h.name as hallName',
        'h.seat_count as seatCount',
        'c.id as cinemaId',
        'c.name as cinemaName',
        'c.address as cinemaAddress',
        'c.timezone',
        'f.id as filmId',
        'f.title as filmTitle',
        'f.duration_minutes as durationMinutes',
        'f.age_rating as ageRating',
      )
      .orderBy(['c.name', 'c.id', 'f.title', 'f.id', 's.starts_at', 's.id']);
    if (filmId !== undefined) query.where('f.id', filmId);
    return query;
  },
};
