import type { Db } from '../connection.js';

/**
 * Sales history for measuring the statistics: orders of ten adjacent seats filling 60-95 % of each
 * showing, written straight into the tables (the statistics triggers count them as for any sale).
 * Each showing filled opens for sale 21 days before it starts, and its orders arrive at random
 * instants in between: 86 % paid, 4 % paid then one ticket cancelled and refunded two days later,
 * 3 % still held, 3 % failed payments (seats released), 4 % rejected (seats taken meanwhile).
 */
export const sampleSalesRepository = {
  /** Fills the next `limit` showings after `afterShowingId` that are on sale and have no orders; returns what it wrote. */
  fillShowings: async (
    db: Db,
    afterShowingId: number,
    limit: number,
  ): Promise<{ lastShowingId: number | null; showings: number; orders: number; tickets: number }> => {
    const { rows } = await db.raw(
      `WITH picked AS (
         SELECT s.id, s.starts_at, s.starts_at - interval '21 days' AS opened, s.currency, s.prices,
                (SELECT array_agg(se.id ORDER BY se.id) FROM seats se WHERE se.hall_id = s.hall_id) AS seat_ids,
                (SELECT array_agg(se.category ORDER BY se.id) FROM seats se WHERE se.hall_id = s.hall_id) AS categories,
                s.hall_id
         FROM showings s
         WHERE s.id > ? AND s.cancelled_at IS NULL AND NOT EXISTS (SELECT FROM orders o WHERE o.showing_id = s.id)
         ORDER BY s.id LIMIT ?
       ), opened AS (
         UPDATE showings s SET created_at = p.opened FROM picked p WHERE s.id = p.id RETURNING s.id
       ), planned AS (
         SELECT gen_random_uuid() AS id, p.id AS showing_id, p.hall_id, p.currency,
                p.seat_ids[10 * k + 1 : 10 * k + 10] AS seats,
                (SELECT array_agg((p.prices ->> c)::integer) FROM unnest(p.categories[10 * k + 1 : 10 * k + 10]) AS c) AS prices,
                p.opened + (p.starts_at - p.opened) * random() AS at, random() AS roll, p.starts_at
         FROM picked p, generate_series(0, floor(cardinality(p.seat_ids) * (0.6 + 0.35 * random()) / 10)::integer - 1) AS k
       ), kinds AS (
         SELECT planned.*,
                CASE WHEN roll < 0.86 THEN 'paid' WHEN roll < 0.90 THEN 'refunded' WHEN roll < 0.93 THEN 'held'
                     WHEN roll < 0.96 THEN 'failed' ELSE 'rejected' END AS kind,
                (SELECT sum(price) FROM unnest(prices) AS price)::integer AS total,
                least(at + interval '2 days', starts_at - interval '1 hour') AS cancelled_at
         FROM planned
       ), new_orders AS (
         INSERT INTO orders (id, showing_id, status, seat_ids, customer_email, currency, total, hold_expires_at,
                             rejected_seat_ids, failure_reason, decided_at, payment_status, refunded_total, confirmed_at,
                             status_changed_at, created_at, updated_at)
         SELECT id, showing_id,
                CASE kind WHEN 'paid' THEN 'confirmed' WHEN 'refunded' THEN 'confirmed' WHEN 'held' THEN 'awaiting_payment'
                          WHEN 'failed' THEN 'payment_failed' ELSE 'rejected' END,
                seats, 'sample-' || left(id::text, 8) || '@example.com', currency,
                CASE WHEN kind = 'rejected' THEN NULL ELSE total END,
                CASE WHEN kind = 'held' THEN now() + interval '1 day' END,
                CASE WHEN kind = 'rejected' THEN seats[1:1] END,
                CASE kind WHEN 'failed' THEN 'CARD_DECLINED' WHEN 'rejected' THEN 'SEAT_TAKEN' END,
                at,
                CASE kind WHEN 'paid' THEN 'paid' WHEN 'refunded' THEN 'partially_refunded' WHEN 'failed' THEN 'declined' END,
                CASE WHEN kind = 'refunded' THEN prices[1] ELSE 0 END,
                CASE WHEN kind IN ('paid', 'refunded') THEN at + interval '1 minute' END,
                at + interval '1 minute', at, at
         FROM kinds
         RETURNING id
       ), new_tickets AS (
         INSERT INTO tickets (order_id, showing_id, hall_id, seat_id, price, status, sold_at, cancelled_at, created_at, updated_at)
         SELECT k.id, k.showing_id, k.hall_id, seat.id, k.prices[seat.position],
                CASE WHEN k.kind = 'refunded' AND seat.position = 1 THEN 'cancelled'
                     WHEN k.kind IN ('paid', 'refunded') THEN 'sold' WHEN k.kind = 'held' THEN 'held' ELSE 'released' END,
                CASE WHEN k.kind IN ('paid', 'refunded') THEN k.at + interval '1 minute' END,
                CASE WHEN k.kind = 'refunded' AND seat.position = 1 THEN k.cancelled_at END,
                k.at, k.at
         FROM kinds k, unnest(k.seats) WITH ORDINALITY AS seat(id, position)
         WHERE k.kind <> 'rejected'
         RETURNING showing_id, status
       ), refunds AS (
         INSERT INTO payments (order_id, kind, idempotency_key, amount, currency, status, created_at, updated_at)
         SELECT id, 'refund', 'sample-refund-' || id, prices[1], currency, 'succeeded', cancelled_at, cancelled_at
         FROM kinds WHERE kind = 'refunded'
         RETURNING id
       )
       SELECT (SELECT max(id) FROM picked) AS "lastShowingId", (SELECT count(*) FROM opened)::integer AS showings,
              (SELECT count(*) FROM new_orders)::integer AS orders, (SELECT count(*) FROM new_tickets)::integer AS tickets,
              (SELECT count(*) FROM refunds)::integer AS refunds`,
      [afterShowingId, limit],
    );
    const filled = [afterShowingId, rows[0].lastShowingId ?? afterShowingId];
    // Apart from the statement that opened the showings' sale: two updates of one row in one
    // statement keep only one of them.
    await db.raw(
      `UPDATE showings s SET seat_version = s.seat_version + 1,
         taken_seats = (SELECT count(*) FROM tickets t WHERE t.showing_id = s.id AND t.status IN ('held', 'sold'))
                     + (SELECT count(*) FROM seat_blocks b WHERE b.showing_id = s.id)
       WHERE s.id > ? AND s.id <= ?`,
      filled,
    );
    // A refund's settling is stamped as it is written: moved to when the ticket was cancelled.
    await db.raw(
      `UPDATE payments p SET settled_at = p.created_at
       FROM orders o WHERE o.id = p.order_id AND p.kind = 'refund' AND p.idempotency_key LIKE 'sample-refund-%'
         AND p.settled_at IS DISTINCT FROM p.created_at AND o.showing_id > ? AND o.showing_id <= ?`,
      filled,
    );
    return rows[0];
  },

  /** Showings on sale without orders: what fillShowings can still fill. */
  fillable: async (db: Db): Promise<number> =>
    Number(
      (
        await db('showings as s')
          .whereNull('s.cancelled_at')
          .whereNotExists(db('orders as o').whereRaw('o.showing_id = s.id'))
          .count({ count: '*' })
          .first()
      )?.count ?? 0,
    ),
};
