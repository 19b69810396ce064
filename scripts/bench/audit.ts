import type { Db } from '../../db/connection.js';

/**
 * Whole-database checks of the sale's invariants, for soak and load runs: what our tables say
 * against what the payment simulator's own tables (schema payment_service) say. A harness, like the
 * tests: it reads the simulator's storage directly, where the booking system only ever asks over HTTP.
 */
export const audit = {
  /** Orders not settled yet: still queued or held, or waiting for a charge or refund outcome. */
  unsettled: async (db: Db): Promise<{ orders: number; payments: number }> => {
    const { rows } = await db.raw(`
      SELECT (SELECT count(*) FROM orders WHERE status IN ('queued', 'awaiting_payment') OR payment_status = 'refund_pending') AS orders,
             (SELECT count(*) FROM payments WHERE status IN ('pending', 'unknown')) AS payments`);
    return { orders: Number(rows[0].orders), payments: Number(rows[0].payments) };
  },

  outcomes: async (db: Db): Promise<Record<string, number>> => {
    const { rows } = await db.raw(
      `SELECT status || '/' || coalesce(payment_status, '-') AS outcome, count(*)::int AS n FROM orders GROUP BY 1 ORDER BY 2 DESC`,
    );
    return Object.fromEntries((rows as { outcome: string; n: number }[]).map((row) => [row.outcome, row.n]));
  },

  /** Seconds from submit to the order's last change, for orders in these statuses. */
  settleSeconds: async (db: Db, statuses: string[]): Promise<number[]> => {
    const { rows } = await db.raw(
      `SELECT extract(epoch FROM updated_at - created_at)::float8 AS s FROM orders WHERE status = ANY(?) ORDER BY 1`,
      [statuses],
    );
    return (rows as { s: number }[]).map((row) => row.s);
  },

  /** Every way the sale could have gone wrong; all zero in a correct run. */
  violations: async (db: Db): Promise<Record<string, number>> => {
    const { rows } = await db.raw(`
      WITH provider AS (
        SELECT reference, count(*) FILTER (WHERE status = 'succeeded') AS paid,
               sum(amount) FILTER (WHERE status = 'succeeded') AS amount,
               sum(refunded_amount) FILTER (WHERE status = 'succeeded') AS refunded
        FROM payment_service.charges GROUP BY reference
      )
      SELECT
        (SELECT count(*) FROM (SELECT 1 FROM tickets WHERE status IN ('held', 'sold') GROUP BY showing_id, seat_id HAVING count(*) > 1) d)
          AS "seatsSoldTwice",
        (SELECT count(*) FROM provider WHERE paid > 1) AS "ordersChargedTwice",
        (SELECT count(*) FROM orders o LEFT JOIN provider p ON p.reference = o.id::text
          WHERE o.status = 'confirmed' AND o.refunded_total = 0 AND (coalesce(p.paid, 0) <> 1 OR p.amount <> o.total OR p.refunded <> 0))
          AS "confirmedWithoutExactlyOnePayment",
        (SELECT count(*) FROM orders o JOIN provider p ON p.reference = o.id::text
          WHERE o.status NOT IN ('confirmed', 'cancelled') AND p.paid > 0 AND p.refunded <> p.amount)
          AS "paidWithoutSeatsNotRefunded",
        (SELECT count(*) FROM orders o JOIN provider p ON p.reference = o.id::text
          WHERE o.status = 'cancelled' AND p.paid > 0 AND p.refunded <> p.amount)
          AS "cancelledNotRefunded",
        (SELECT count(*) FROM orders o WHERE o.status = 'confirmed'
          AND cardinality(o.seat_ids) <> (SELECT count(*) FROM tickets t WHERE t.order_id = o.id AND t.status IN ('sold', 'cancelled')))
          AS "confirmedWithMissingTickets"`);
    return Object.fromEntries(
      Object.entries(rows[0] as Record<string, string>).map(([name, value]) => [name, Number(value)]),
    );
  },
};
