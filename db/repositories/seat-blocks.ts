import type { SeatDelta } from '../../domain/model/tickets.js';
import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';
import { bumpVersionsCtes } from './seat-versions.js';

export type SeatBlock = { seatId: number; row: string; number: number; reason: string; createdAt: Date };

/** What a block checks of its showing (a cancellation waits for the partition's arrival lock a block holds). */
export type BlockableShowing = { id: number; hallId: number; startsAt: Date; cancelledAt: Date | null };

/** Bumps the showing's seat-map version and moves its taken seats by `taken`, returning the delta to publish. */
async function bumpWith(trx: Db, showingId: number, taken: number, seats: SeatDelta['seats']): Promise<SeatDelta> {
  const [bumped] = await runPrepared<{ id: number; version: number }>(
    trx,
    'seat-blocks-bump',
    `WITH ${bumpVersionsCtes('$1', '$2')} SELECT id, version FROM bumped`,
    [[showingId], [taken]],
  );
  return { showingId, version: bumped!.version, seats };
}

/** Seats of one showing the cinema took off sale. Call inside a transaction: each write bumps the seat map. */
export const seatBlocksRepository = {
  showing: (trx: Db, showingId: number): Promise<BlockableShowing | undefined> =>
    trx('showings')
      .first('id', 'hall_id as hallId', 'starts_at as startsAt', 'cancelled_at as cancelledAt')
      .where('id', showingId),

  list: (db: Db, showingId: number): Promise<SeatBlock[]> =>
    db({ b: 'seat_blocks' })
      .join({ s: 'seats' }, 's.id', 'b.seat_id')
      .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
      .where('b.showing_id', showingId)
      .select('b.seat_id as seatId', 'r.label as row', 's.number', 'b.reason', 'b.created_at as createdAt')
      .orderBy(['r.y', 's.x']),

  insert: async (trx: Db, showing: BlockableShowing, seatIds: number[], reason: string): Promise<SeatDelta> => {
    await trx('seat_blocks').insert(
      seatIds.map((seatId) => ({ showing_id: showing.id, hall_id: showing.hallId, seat_id: seatId, reason })),
    );
    return bumpWith(
      trx,
      showing.id,
      seatIds.length,
      seatIds.map((id) => ({ id, status: 'blocked' as const })),
    );
  },

  /** Removes the block; undefined when the seat was not blocked. */
  delete: async (trx: Db, showingId: number, seatId: number): Promise<SeatDelta | undefined> => {
    const deleted = await trx('seat_blocks').where({ showing_id: showingId, seat_id: seatId }).delete();
    return deleted === 0 ? undefined : bumpWith(trx, showingId, -1, [{ id: seatId, status: 'free' }]);
  },
};
