import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';

export type LiveSeatStatus = 'free' | 'held' | 'sold';

/** What a transaction changed on one showing's seat map, and the map's version after it. */
export type SeatDelta = { showingId: number; version: number; seats: { id: number; status: LiveSeatStatus }[] };

/** A ticket that changed, with its new status (held, sold, released, cancelled). */
export type TicketChange = { showingId: number; seatId: number; status: string };

const liveStatus = (ticketStatus: string): LiveSeatStatus => (ticketStatus === 'held' || ticketStatus === 'sold' ? ticketStatus : 'free');

export const seatVersionsRepository = {
  /**
   * Bumps the seat-map version of every showing these changes touch, inside the caller's
   * transaction. Rows are locked in id order, so two transactions touching the same showings never
   * wait on each other in a circle; NO KEY UPDATE, as the UPDATE itself takes, does not wait for the
   * key-share locks that inserts of orders and tickets hold on their showing.
   */
  bump: async (trx: Db, changes: TicketChange[]): Promise<SeatDelta[]> => {
    if (changes.length === 0) return [];
    const showingIds = [...new Set(changes.map((change) => change.showingId))];
    const rows = await runPrepared<{ id: number; version: number }>(
      trx,
      'showings-bump-seat-version',
      `WITH locked AS (SELECT id FROM showings WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE)
       UPDATE showings s SET seat_version = s.seat_version + 1 FROM locked WHERE s.id = locked.id
       RETURNING s.id, s.seat_version AS version`,
      [showingIds],
    );
    return rows.map(({ id, version }) => ({
      showingId: id,
      version,
      seats: changes.filter((change) => change.showingId === id).map((change) => ({ id: change.seatId, status: liveStatus(change.status) })),
    }));
  },

  version: async (db: Db, showingId: number): Promise<number | undefined> =>
    (await db('showings').first('seat_version').where('id', showingId))?.seat_version,
};
