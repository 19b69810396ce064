import type { SaleShowing, SeatInfo } from '../../domain/model/orders.js';
import type { Db } from '../connection.js';

/** What a submit checks before its order is queued (read through the intake's caches). */
export const saleCatalogRepository = {
  showings: (db: Db, ids: number[]): Promise<SaleShowing[]> =>
    db('showings')
      .select('id', 'hall_id as hallId', 'starts_at as startsAt', 'cancelled_at as cancelledAt', 'prices', 'currency')
      .whereIn('id', ids),

  /** The showing's seats that neither a ticket nor a block takes, exactly as committed (its kept count). */
  freeSeats: async (db: Db, showingId: number): Promise<number> => {
    const row = await db({ s: 'showings' })
      .join({ h: 'halls' }, 'h.id', 's.hall_id')
      .first(db.raw('h.seat_count - s.taken_seats AS free'))
      .where('s.id', showingId);
    return row?.free ?? 0;
  },

  hallSeats: (db: Db, hallId: number): Promise<SeatInfo[]> =>
    db({ s: 'seats' })
      .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
      .select('s.id', 's.hall_id as hallId', 's.category', 'r.label as row', 's.number')
      .where('s.hall_id', hallId),
};
