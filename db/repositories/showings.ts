import { ACTIVE_TICKET_STATUSES } from '../../domain/model/tickets.js';
import type { Db } from '../connection.js';
import { pageAfter, type After } from '../keyset.js';
import type { Prices } from './cinemas.js';

export type ShowingRow = {
  id: number;
  hallId: number;
  cinemaId: number;
  cityId: number;
  seatCount: number;
  filmId: number;
  startsAt: Date;
  endsAt: Date;
  prices: Prices;
  currency: string;
  timezone: string;
  cancelledAt: Date | null;
  /** Seats an active ticket takes (kept with the seat-map version). */
  takenSeats: number;
  createdAt: Date;
  updatedAt: Date;
};
export type ShowingWrite = {
  hallId: number;
  filmId: number;
  startsAt: Date;
  endsAt: Date;
  blockedUntil: Date;
  prices: Prices;
  currency: string;
};
export type ShowingFilter = {
  cityId?: number;
  cinemaId?: number;
  hallId?: number;
  filmId?: number;
  /** Only the showings of this operator's cinemas. */
  operatorId?: number;
  /** A calendar day, taken in each cinema's own time zone. */
  date?: string;
  from?: Date;
  to?: Date;
};

const columns = [
  's.id',
  's.hall_id as hallId',
  'h.cinema_id as cinemaId',
  'c.city_id as cityId',
  'h.seat_count as seatCount',
  's.film_id as filmId',
  's.starts_at as startsAt',
  's.ends_at as endsAt',
  's.prices',
  's.currency',
  'c.timezone',
  's.cancelled_at as cancelledAt',
  's.taken_seats as takenSeats',
  's.created_at as createdAt',
  's.updated_at as updatedAt',
];

const writable: Record<keyof ShowingWrite, string> = {
  hallId: 'hall_id',
  filmId: 'film_id',
  startsAt: 'starts_at',
  endsAt: 'ends_at',
  blockedUntil: 'blocked_until',
  prices: 'prices',
  currency: 'currency',
};

function toColumns(values: Partial<ShowingWrite>) {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => [
        writable[field as keyof ShowingWrite],
        field === 'prices' ? JSON.stringify(value) : value,
      ]),
  );
}

function withPlace(db: Db) {
  return db({ s: 'showings' }).join({ h: 'halls' }, 'h.id', 's.hall_id').join({ c: 'cinemas' }, 'c.id', 'h.cinema_id');
}

/** The day [date 00:00, next day 00:00) in the cinema's zone, as a condition on s.starts_at. */
export const STARTS_ON_LOCAL_DATE =
  's.starts_at >= (?::date)::timestamp AT TIME ZONE c.timezone AND s.starts_at < (?::date + 1)::timestamp AT TIME ZONE c.timezone';

export const showingsRepository = {
  list: (
    db: Db,
    { filter, after, limit }: { filter: ShowingFilter; after?: After; limit: number },
  ): Promise<ShowingRow[]> => {
    const query = withPlace(db).select(columns).whereNull('s.cancelled_at');
    if (filter.cityId !== undefined) query.where('c.city_id', filter.cityId);
    if (filter.cinemaId !== undefined) query.where('h.cinema_id', filter.cinemaId);
    if (filter.hallId !== undefined) query.where('s.hall_id', filter.hallId);
    if (filter.filmId !== undefined) query.where('s.film_id', filter.filmId);
    if (filter.operatorId !== undefined) query.where('c.operator_id', filter.operatorId);
    if (filter.date !== undefined) query.whereRaw(STARTS_ON_LOCAL_DATE, [filter.date, filter.date]);
    if (filter.from !== undefined) query.where('s.starts_at', '>=', filter.from);
    if (filter.to !== undefined) query.where('s.starts_at', '<', filter.to);
    return pageAfter(query, { sortColumn: 's.starts_at', idColumn: 's.id', after, limit });
  },

  get: (db: Db, id: number): Promise<ShowingRow | undefined> => withPlace(db).select(columns).where('s.id', id).first(),

  insert: async (db: Db, values: ShowingWrite): Promise<number> => {
    const [row] = await db('showings').insert(toColumns(values)).returning('id');
    return row.id;
  },

  update: async (db: Db, id: number, changes: Partial<ShowingWrite>): Promise<boolean> =>
    (await db('showings').where({ id }).update(toColumns(changes))) > 0,

  delete: async (db: Db, id: number): Promise<boolean> => (await db('showings').where({ id }).delete()) > 0,

  /** Live showings of the hall whose busy time meets [startsAt, blockedUntil). */
  overlapping: async (
    db: Db,
    {
      hallId,
      startsAt,
      blockedUntil,
      exceptId,
    }: { hallId: number; startsAt: Date; blockedUntil: Date; exceptId?: number },
  ): Promise<number[]> => {
    const query = db('showings')
      .where({ hall_id: hallId })
      .whereNull('cancelled_at')
      .whereRaw('tstzrange(starts_at, blocked_until) && tstzrange(?, ?)', [startsAt, blockedUntil])
      .orderBy('starts_at')
      .pluck('id');
    if (exceptId !== undefined) query.whereNot({ id: exceptId });
    return query;
  },

  lockForUpdate: (trx: Db, id: number): Promise<{ id: number; cancelledAt: Date | null } | undefined> =>
    trx('showings').where({ id }).forUpdate().first('id', 'cancelled_at as cancelledAt'),

  /** Takes the showing off sale; its orders are cancelled in the same transaction. */
  markCancelled: (trx: Db, id: number) => trx('showings').where({ id }).update({ cancelled_at: trx.fn.now() }),

  hasActiveTickets: async (db: Db, id: number): Promise<boolean> =>
    Boolean(await db('tickets').where({ showing_id: id }).whereIn('status', ACTIVE_TICKET_STATUSES).first('id')),
};
