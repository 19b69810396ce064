import type { Knex } from 'knex';
import { sleep } from './clients.js';

/** What a soak run checks in the database once its load has stopped. */

/** Seats of these showings that more than one active ticket (held or sold) claims. */
export async function doubleSoldSeats(db: Knex, showingIds: number[]): Promise<number> {
  const { rows } = await db.raw(
    `SELECT seat_id FROM tickets WHERE showing_id = ANY(?) AND status IN ('held', 'sold')
     GROUP BY showing_id, seat_id HAVING count(*) > 1`,
    [showingIds],
  );
  return rows.length;
}

/**
 * The accepted orders, once the workers had up to `decideWithinMs` to decide them: how many the
 * database holds, how many are still queued, and how many it lost.
 */
export async function acceptedOrders(db: Knex, acceptedIds: string[], decideWithinMs: number) {
  const count = async (query: Knex.QueryBuilder) => Number((await query.count({ n: '*' }))[0]!.n);
  const undecided = () => count(db('orders').whereIn('id', acceptedIds).where('status', 'queued'));
  const decideBy = Date.now() + decideWithinMs;
  while ((await undecided()) > 0 && Date.now() < decideBy) await sleep(250);
  const stored = await count(db('orders').whereIn('id', acceptedIds));
  return { accepted: acceptedIds.length, stored, undecided: await undecided(), lost: acceptedIds.length - stored };
}
