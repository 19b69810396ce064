import { seatStatusOf, type SeatDelta, type TicketChange } from '../../domain/model/tickets.js';
import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';

/**
 * The CTEs that bump the seat-map version of the showings whose ids the statement parameter
 * `idsParam` (bigint[]) lists, and move their taken-seat counts by `deltasParam` (int[], aligned),
 * for statements that change tickets and bump in one go. Rows are locked in id order, so two
 * transactions touching the same showings never wait on each other in a circle; NO KEY UPDATE, as
 * the UPDATE itself takes, does not wait for the key-share locks that inserts of orders and tickets
 * hold on their showing. `bumped` returns (id, version).
 */
export const bumpVersionsCtes = (idsParam: string, deltasParam: string) =>
  `locked_showings AS (SELECT id FROM showings WHERE id = ANY(${idsParam}::bigint[]) ORDER BY id FOR NO KEY UPDATE),
   taken_changes AS (SELECT * FROM unnest(${idsParam}::bigint[], ${deltasParam}::int[]) AS c(id, delta)),
   bumped AS (UPDATE showings s SET seat_version = s.seat_version + 1, taken_seats = s.taken_seats + c.delta
              FROM locked_showings l JOIN taken_changes c ON c.id = l.id WHERE s.id = l.id
              RETURNING s.id, s.seat_version AS version)`;

/**
 * The showings these changes touch, and how each one's taken seats move: by `takenBy` per change.
 * Only active tickets ever change (TICKET_TRANSITIONS), so an existing ticket's change frees its seat
 * or leaves it taken, and a new ticket takes one.
 */
export function showingChanges(changes: TicketChange[], takenBy: (change: TicketChange) => number) {
  const deltas = new Map<number, number>();
  for (const change of changes) deltas.set(change.showingId, (deltas.get(change.showingId) ?? 0) + takenBy(change));
  return { ids: [...deltas.keys()], deltas: [...deltas.values()] };
}

/** A change of an existing (active) ticket: a seat whose ticket goes to a free status is freed. */
export const freedBy = (change: TicketChange) => (seatStatusOf(change.status) === 'free' ? -1 : 0);

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
  /**
   * Bumps the seat-map version of every showing these changes of existing tickets touch, and their
   * taken seats, inside the caller's transaction.
   */
  bump: async (trx: Db, changes: TicketChange[]): Promise<SeatDelta[]> => {
    if (changes.length === 0) return [];
    const { ids, deltas } = showingChanges(changes, freedBy);
    const versions = await runPrepared<{ id: number; version: number }>(
      trx,
      'showings-bump-seat-version',
      `WITH ${bumpVersionsCtes('$1', '$2')} SELECT id, version FROM bumped`,
      [ids, deltas],
    );
    return toSeatDeltas(versions, changes);
  },
};
