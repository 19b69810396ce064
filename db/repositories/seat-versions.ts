import { seatStatusOf, type SeatDelta, type TicketChange } from '../../domain/model/tickets.js';
import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';

/**
 * The CTEs that bump the seat-map version of the showings whose ids the statement parameter
 * `idsParam` (bigint[]) lists, for statements that change tickets and bump in one go. Rows are
 * locked in id order, so two transactions touching the same showings never wait on each other in a
 * circle; NO KEY UPDATE, as the UPDATE itself takes, does not wait for the key-share locks that
 * inserts of orders and tickets hold on their showing. `bumped` returns (id, version).
 */
export const bumpVersionsCtes = (idsParam: string) =>
  `locked_showings AS (SELECT id FROM showings WHERE id = ANY(${idsParam}::bigint[]) ORDER BY id FOR NO KEY UPDATE),
   bumped AS (UPDATE showings s SET seat_version = s.seat_version + 1 FROM locked_showings l WHERE s.id = l.id
              RETURNING s.id, s.seat_version AS version)`;

export const showingsOf = (changes: TicketChange[]) => [...new Set(changes.map((change) => change.showingId))];

/** One delta per bumped showing: its new version and the seats these changes touched on it. */
export function toSeatDeltas(versions: { id: number; version: number }[], changes: TicketChange[]): SeatDelta[] {
  const seatsByShowing = new Map<number, SeatDelta['seats']>();
  for (const change of changes) {
    const seats = seatsByShowing.get(change.showingId) ?? [];
    seats.push({ id: change.seatId, status: seatStatusOf(change.status) });
    seatsByShowing.set(change.showingId, seats);
  }
  return versions.map(({ id, version }) => ({ showingId: id, version, seats: seatsByShowing.get(id) ?? [] }));
}

export const seatVersionsRepository = {
  /** Bumps the seat-map version of every showing these changes touch, inside the caller's transaction. */
  bump: async (trx: Db, changes: TicketChange[]): Promise<SeatDelta[]> => {
    if (changes.length === 0) return [];
    const versions = await runPrepared<{ id: number; version: number }>(
      trx,
      'showings-bump-seat-version',
      `WITH ${bumpVersionsCtes('$1')} SELECT id, version FROM bumped`,
      [showingsOf(changes)],
    );
    return toSeatDeltas(versions, changes);
  },

  version: async (db: Db, showingId: number): Promise<number | undefined> =>
    (await db('showings').first('seat_version').where('id', showingId))?.seat_version,
};
