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
  // One array parameter: a soak accepts more orders than a statement may have parameters (65,535).
  const accepted = () => db('orders').whereRaw('id = ANY(?::uuid[])', [acceptedIds]);
  const undecided = () => count(accepted().where('status', 'queued'));
  const decideBy = Date.now() + decideWithinMs;
  while ((await undecided()) > 0 && Date.now() < decideBy) await sleep(250);
  const stored = await count(accepted());
  return { accepted: acceptedIds.length, stored, undecided: await undecided(), lost: acceptedIds.length - stored };
}

export type UnsettledWork = { orders: number; payingOrders: number; payments: number };

/** What is still moving once the load stopped: orders undecided or held, payments and refunds unsettled. */
export async function unsettledWork(db: Knex): Promise<UnsettledWork> {
  const { rows } = await db.raw(
    `SELECT (SELECT count(*) FROM orders WHERE status IN ('queued', 'awaiting_payment'))::int AS orders,
            (SELECT count(*) FROM orders
             WHERE payment_status IN ('processing', 'retrying', 'provider_unavailable', 'refund_pending'))::int AS "payingOrders",
            (SELECT count(*) FROM payments WHERE status IN ('pending', 'unknown'))::int AS payments`,
  );
  return rows[0];
}

/** Waits until nothing is unsettled, or the deadline (ms since the epoch); resolves with what is left. */
export async function waitUntilSettled(
  db: Knex,
  deadline: number,
  progress: (left: UnsettledWork) => void = () => {},
): Promise<UnsettledWork> {
  let reported = 0;
  for (;;) {
    const left = await unsettledWork(db);
    const idle = left.orders + left.payingOrders + left.payments === 0;
    if (idle || Date.now() >= deadline) return left;
    if (Date.now() - reported >= 10_000) {
      progress(left);
      reported = Date.now();
    }
    await sleep(1_000);
  }
}
