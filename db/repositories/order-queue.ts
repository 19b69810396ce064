import type { Decision, NewOrder, QueuedOrder, StoredDecision } from '../../domain/model/orders.js';
import type { NewTicket, SeatDelta } from '../../domain/model/tickets.js';
import type { PlanRow, PlanSeat } from '../../domain/model/seating.js';
import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';
import { bumpVersionsCtes, showingChanges, toSeatDeltas } from './seat-versions.js';

/** Advisory lock class of "orders arriving in partition N" (the object id is the partition). */
const ARRIVAL_LOCK = 0x6f726472; // 'ordr'

/**
 * PostgreSQL as the order queue, one FIFO per partition: the intake enqueues (`insertQueued`, under
 * the partition's shared arrival lock), the allocation passes the arrival barrier, locks the oldest
 * queued orders and records their decisions. It is the only writer of new tickets.
 */
export const orderQueueRepository = {
  /**
   * One statement for every order given: an order whose Idempotency-Key exists already is skipped
   * (also the second of two with one key in the same batch). Returns the ids inserted. Rows get
   * their arrival sequence in list order.
   *
   * Before any sequence number is drawn, the statement takes the shared arrival lock of each
   * partition it writes to, held until it commits. An allocation passes that lock exclusively (the
   * arrival barrier) and then decides only orders numbered up to what was drawn before it, so it
   * never sees a later order while an earlier-numbered one is still uncommitted: arrival order (seq)
   * is exactly the order of decision.
   */
  insertQueued: async (db: Db, orders: (NewOrder & { partition: number })[]): Promise<Set<string>> => {
    const partitions = [...new Set(orders.map((order) => order.partition))];
    const rows = await runPrepared<{ id: string }>(
      db,
      'orders-insert-queued',
      `WITH arrival AS (
         SELECT pg_advisory_xact_lock_shared($1, partition) FROM unnest($2::int[]) AS partition ORDER BY partition
       )
       INSERT INTO orders (id, showing_id, status, seat_ids, best, customer_email, customer_name, currency, idempotency_key, request_hash,
                           payment_token, request_id, client_key, created_at, updated_at)
       SELECT o.id, o.showing_id, 'queued', o.seat_ids, o.best, o.customer_email, o.customer_name, o.currency, o.idempotency_key,
              o.request_hash, o.payment_token, o.request_id, o.client_key, o.created_at, o.created_at
       FROM ROWS FROM (jsonb_to_recordset($3::jsonb) AS (id uuid, showing_id bigint, seat_ids bigint[], best jsonb, customer_email text,
              customer_name text, currency text, idempotency_key text, request_hash text, payment_token text, request_id text, client_key text,
              created_at timestamptz))
            WITH ORDINALITY AS o(id, showing_id, seat_ids, best, customer_email, customer_name, currency, idempotency_key, request_hash,
                                 payment_token, request_id, client_key, created_at, position)
       WHERE (SELECT count(*) FROM arrival) = $4
       ORDER BY o.position
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id`,
      [
        ARRIVAL_LOCK,
        partitions,
        JSON.stringify(
          orders.map((order) => ({
            id: order.id,
            showing_id: order.showingId,
            seat_ids: order.seatIds,
            best: order.best,
            customer_email: order.customerEmail,
            customer_name: order.customerName,
            currency: order.currency,
            idempotency_key: order.idempotencyKey,
            request_hash: order.requestHash,
            payment_token: order.paymentToken,
            request_id: order.requestId ?? null,
            client_key: order.clientKey ?? null,
            created_at: order.createdAt,
          })),
        ),
        partitions.length,
      ],
    );
    return new Set(rows.map((row) => row.id));
  },

  /** How many orders are queued in each partition that has any. */
  queuedByPartition: async (db: Db, partitions: number): Promise<Map<number, number>> => {
    const rows = await runPrepared<{ partition: number; queued: number }>(
      db,
      'orders-queued-by-partition',
      `SELECT (showing_id % $1)::int AS partition, count(*)::int AS queued FROM orders WHERE status = 'queued' GROUP BY 1`,
      [partitions],
    );
    return new Map(rows.map((row) => [row.partition, row.queued]));
  },

  /**
   * Waits for the partition's inserts and allocation under way and holds off new ones until this
   * transaction ends (a showing's cancellation: nothing of the partition is decided meanwhile).
   */
  lockArrivals: async (trx: Db, partition: number): Promise<void> => {
    await runPrepared(trx, 'orders-arrival-lock', 'SELECT pg_advisory_xact_lock($1, $2)', [ARRIVAL_LOCK, partition]);
  },

  /**
   * The arrival barrier, run on its own (not in a transaction): waits for the partition's inserts
   * under way, then lets new ones go on at once. Returns the highest arrival number drawn so far:
   * every order of the partition numbered up to it is committed (or rolled back) by then, since an
   * insert holds the shared arrival lock from before it draws its numbers until it commits. Orders
   * numbered above it may still be uncommitted behind a later-numbered one, so they wait for the next
   * batch. This holds while the identity draws one number at a time (CACHE 1, its default).
   */
  arrivalHorizon: async (db: Db, partition: number): Promise<number> => {
    const [row] = await runPrepared<{ horizon: string }>(
      db,
      'orders-arrival-horizon',
      `SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('orders', 'seq')::regclass), 0) AS horizon
       FROM (SELECT pg_advisory_xact_lock($1, $2)) AS barrier`,
      [ARRIVAL_LOCK, partition],
    );
    return Number(row!.horizon);
  },

  /**
   * The partition's oldest queued orders numbered after `afterSeq` and up to `horizon`, locked, with
   * their showing, their seats and whether an active ticket holds each. The lower bound lets the scan
   * start past the index entries of orders decided since the last vacuum. First the shared arrival
   * lock, held to the end of the transaction: a showing's cancellation (exclusive) waits for the batch
   * under way without holding up inserts. It is a statement of its own so that the read, which
   * takes its snapshot when it starts, sees what a cancellation committed while the batch waited.
   * FOR UPDATE (not SKIP LOCKED): if a second drainer ever runs on the partition it waits here
   * instead of deciding later orders first.
   */
  lockQueuedBatch: async (
    trx: Db,
    {
      partitions,
      partition,
      afterSeq,
      horizon,
      limit,
      countHeld,
    }: {
      partitions: number;
      partition: number;
      afterSeq: number;
      horizon: number;
      limit: number;
      /** Count the seats each customer and client address hold in the showing (a cap applies); else 0, unread. */
      countHeld: boolean;
    },
  ): Promise<QueuedOrder[]> => {
    await runPrepared(trx, 'orders-arrival-lock-shared', 'SELECT pg_advisory_xact_lock_shared($1, $2)', [
      ARRIVAL_LOCK,
      partition,
    ]);
    return runPrepared<QueuedOrder>(
      trx,
      'orders-lock-queued-batch',
      `WITH batch AS (
         SELECT o.id, o.seq, o.showing_id, o.seat_ids, o.best, o.currency, o.created_at, o.payment_token IS NOT NULL AS pays_by_card,
                o.request_id, lower(o.customer_email) AS customer, o.client_key
         FROM orders o
         WHERE o.status = 'queued' AND o.seq > $1 AND o.seq <= $5 AND o.showing_id % $2 = $3
         ORDER BY o.seq LIMIT $4
         FOR UPDATE
       )
       SELECT b.id, b.seq, b.showing_id AS "showingId", b.seat_ids AS "seatIds", b.best, b.currency, b.created_at AS "createdAt",
              s.hall_id AS "hallId", h.seating, s.starts_at AS "startsAt", s.cancelled_at AS "showingCancelledAt", s.prices,
              b.pays_by_card AS "paysByCard", b.request_id AS "requestId", b.customer, b.client_key AS client,
              CASE WHEN $6 THEN
                (SELECT coalesce(sum(cardinality(h.seat_ids)), 0)::int FROM orders h
                 WHERE h.showing_id = b.showing_id AND lower(h.customer_email) = b.customer AND h.status = 'awaiting_payment')
              ELSE 0 END AS "heldByCustomer",
              CASE WHEN $6 AND b.client_key IS NOT NULL THEN
                (SELECT coalesce(sum(cardinality(h.seat_ids)), 0)::int FROM orders h
                 WHERE h.showing_id = b.showing_id AND h.client_key = b.client_key AND h.status = 'awaiting_payment')
              ELSE 0 END AS "heldByClient",
              (SELECT coalesce(json_agg(json_build_object(
                        'id', seat.id, 'hallId', seat.hall_id, 'category', seat.category, 'row', r.label, 'number', seat.number,
                        'taken', EXISTS (SELECT FROM tickets t
                                         WHERE t.showing_id = b.showing_id AND t.seat_id = seat.id AND t.status IN ('held', 'sold')),
                        'blocked', EXISTS (SELECT FROM seat_blocks sb WHERE sb.showing_id = b.showing_id AND sb.seat_id = seat.id))), '[]')
               FROM unnest(b.seat_ids) AS wanted(seat_id)
               JOIN seats seat ON seat.id = wanted.seat_id JOIN hall_rows r ON r.id = seat.row_id) AS seats
       FROM batch b JOIN showings s ON s.id = b.showing_id JOIN halls h ON h.id = s.hall_id
       ORDER BY b.seq`,
      [afterSeq, partitions, partition, limit, horizon, countHeld],
    );
  },

  /**
   * The whole hall of each of these showings, rows in drawing order and seats by position, each
   * seat free unless an active ticket or a block takes it. Read in the batch's transaction, after
   * its orders were locked under the shared arrival lock: blocks, taken under the exclusive one,
   * cannot change meanwhile, and a ticket released meanwhile only shows taken (never the reverse).
   */
  seatPlans: async (trx: Db, showingIds: number[]): Promise<Map<number, PlanRow[]>> => {
    const seats = await runPrepared<PlanSeat & { showingId: number; rowId: number; label: string; y: number }>(
      trx,
      'orders-seat-plans',
      `SELECT sh.id AS "showingId", r.id AS "rowId", r.label, r.y, s.id, s.number, s.x, s.width, s.category,
              NOT EXISTS (SELECT FROM tickets t WHERE t.showing_id = sh.id AND t.seat_id = s.id AND t.status IN ('held', 'sold'))
              AND NOT EXISTS (SELECT FROM seat_blocks sb WHERE sb.showing_id = sh.id AND sb.seat_id = s.id) AS free
       FROM showings sh JOIN seats s ON s.hall_id = sh.hall_id JOIN hall_rows r ON r.id = s.row_id
       WHERE sh.id = ANY($1::bigint[])
       ORDER BY sh.id, r.y, s.x`,
      [showingIds],
    );
    const plans = new Map<number, Map<number, PlanRow>>();
    for (const { showingId, rowId, label, y, ...seat } of seats) {
      const rows = plans.get(showingId) ?? new Map<number, PlanRow>();
      const row = rows.get(rowId) ?? { label, y, seats: [] };
      row.seats.push(seat);
      rows.set(rowId, row);
      plans.set(showingId, rows);
    }
    return new Map([...plans].map(([showingId, rows]) => [showingId, [...rows.values()]]));
  },

  /**
   * Writes a batch's outcome in one statement: the new tickets, every order's decision, and the
   * seat-map versions of the showings that got tickets. Only orders still queued change, so a replay
   * is a no-op. Returns the stored decision times and ticket ids, and the seat deltas.
   */
  recordDecisions: async (
    trx: Db,
    decisions: Decision[],
    tickets: NewTicket[],
  ): Promise<{ stored: Map<string, StoredDecision>; seats: SeatDelta[] }> => {
    if (decisions.length === 0) return { stored: new Map(), seats: [] };
    // Every new ticket takes its seat.
    const showings = showingChanges(tickets, () => 1);
    const [row] = await runPrepared<{
      decided: {
        id: string;
        decidedAt: string;
        updatedAt: string;
        version: number;
        ticketIds: Record<string, number>;
      }[];
      versions: { id: number; version: number }[];
    }>(
      trx,
      'orders-record-decisions',
      `WITH new_tickets AS (
         INSERT INTO tickets (order_id, showing_id, hall_id, seat_id, price, status, sold_at)
         SELECT order_id, showing_id, hall_id, seat_id, price, status, CASE WHEN status = 'sold' THEN now() END
         FROM jsonb_to_recordset($1::jsonb) AS t(order_id uuid, showing_id bigint, hall_id bigint, seat_id bigint, price int, status text)
         RETURNING id, order_id, seat_id
       ), decided AS (
         UPDATE orders o
         SET status = d.status, total = d.total, hold_expires_at = d.hold_expires_at, rejected_seat_ids = d.rejected_seat_ids,
             failure_reason = d.failure_reason, payment_status = d.payment_status, decided_at = now(),
             seat_ids = coalesce(d.chosen_seat_ids, o.seat_ids)
         FROM jsonb_to_recordset($2::jsonb)
           AS d(id uuid, status text, total int, hold_expires_at timestamptz, rejected_seat_ids bigint[], failure_reason text,
                payment_status text, chosen_seat_ids bigint[])
         WHERE o.id = d.id AND o.status = 'queued'
         RETURNING o.id, o.decided_at, o.updated_at, o.version
       ), ${bumpVersionsCtes('$3', '$4')}
       SELECT (SELECT coalesce(json_agg(json_build_object(
                 'id', d.id, 'decidedAt', d.decided_at, 'updatedAt', d.updated_at, 'version', d.version,
                 'ticketIds', coalesce((SELECT json_object_agg(t.seat_id, t.id) FROM new_tickets t WHERE t.order_id = d.id), '{}'))), '[]')
               FROM decided d) AS decided,
              (SELECT coalesce(json_agg(json_build_object('id', id, 'version', version)), '[]') FROM bumped) AS versions`,
      [
        JSON.stringify(
          tickets.map((ticket) => ({
            order_id: ticket.orderId,
            showing_id: ticket.showingId,
            hall_id: ticket.hallId,
            seat_id: ticket.seatId,
            price: ticket.price,
            status: ticket.status,
          })),
        ),
        JSON.stringify(
          decisions.map((decision) => ({
            id: decision.id,
            status: decision.status,
            total: decision.total,
            hold_expires_at: decision.holdExpiresAt,
            rejected_seat_ids: decision.rejectedSeatIds,
            failure_reason: decision.failureReason,
            payment_status: decision.paymentStatus,
            chosen_seat_ids: decision.chosen?.map((seat) => seat.id) ?? null,
          })),
        ),
        showings.ids,
        showings.deltas,
      ],
    );
    const stored = new Map(
      row!.decided.map((decision) => [
        decision.id,
        {
          decidedAt: new Date(decision.decidedAt),
          updatedAt: new Date(decision.updatedAt),
          version: decision.version,
          ticketIds: decision.ticketIds,
        },
      ]),
    );
    return { stored, seats: toSeatDeltas(row!.versions, tickets) };
  },
};
