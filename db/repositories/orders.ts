import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';
import type { TicketChange } from './seat-versions.js';

export type NewOrder = {
  id: string;
  showingId: number;
  seatIds: number[];
  customerEmail: string;
  customerName: string | null;
  currency: string;
  idempotencyKey: string;
  requestHash: string;
  paymentToken: string | null;
  createdAt: Date;
};

export type OrderRow = {
  id: string;
  seq: number;
  showingId: number;
  status: string;
  seatIds: number[];
  customerEmail: string;
  customerName: string | null;
  total: number | null;
  currency: string;
  holdExpiresAt: Date | null;
  rejectedSeatIds: number[] | null;
  failureReason: string | null;
  paymentStatus: string | null;
  refundedTotal: number;
  decidedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

/** A requested seat; the ticket exists once the order was decided in its favour. */
export type OrderSeatRow = { seatId: number; row: string; number: number; price: number | null; ticketId: number | null; ticketStatus: string | null };

/** A queued order with what allocation needs of its showing, read in the same locked statement. */
export type QueuedOrder = {
  id: string;
  seq: number;
  showingId: number;
  seatIds: number[];
  currency: string;
  createdAt: Date;
  hallId: number;
  startsAt: Date;
  showingCancelledAt: Date | null;
  prices: Record<string, number>;
  /** The buyer gave a card token: the charge starts as soon as the seats are held. */
  paysByCard: boolean;
};

export type SaleShowing = {
  id: number;
  hallId: number;
  startsAt: Date;
  cancelledAt: Date | null;
  prices: Record<string, number>;
  currency: string;
};

export type SeatInfo = { id: number; hallId: number; category: string; row: string; number: number };

export type NewTicket = { orderId: string; showingId: number; hallId: number; seatId: number; price: number; status: 'held' | 'sold' };

export type Decision = {
  id: string;
  status: string;
  total: number | null;
  holdExpiresAt: Date | null;
  rejectedSeatIds: number[] | null;
  failureReason: string | null;
  paymentStatus: string | null;
};

/** What a batch's commit returns per decided order: its stored times and the ids of its new tickets by seat. */
export type StoredDecision = { decidedAt: Date; updatedAt: Date; ticketIds: Record<string, number> };

const orderColumns = [
  'id',
  'seq',
  'showing_id as showingId',
  'status',
  'seat_ids as seatIds',
  'customer_email as customerEmail',
  'customer_name as customerName',
  'total',
  'currency',
  'hold_expires_at as holdExpiresAt',
  'rejected_seat_ids as rejectedSeatIds',
  'failure_reason as failureReason',
  'payment_status as paymentStatus',
  'refunded_total as refundedTotal',
  'decided_at as decidedAt',
  'created_at as createdAt',
  'updated_at as updatedAt',
];

/** Advisory lock class of "orders arriving in partition N" (the object id is the partition). */
const ARRIVAL_LOCK = 0x6f726472; // 'ordr'

export const ACTIVE_TICKET_STATUSES = ['held', 'sold'];

export const ordersRepository = {
  /**
   * One statement for every order given: an order whose Idempotency-Key exists already is skipped
   * (also the second of two with one key in the same batch). Returns the ids inserted. Rows get
   * their arrival sequence in list order.
   *
   * Before any sequence number is drawn, the statement takes the shared arrival lock of each
   * partition it writes to, held until it commits. An allocation takes that lock exclusively before
   * reading the queue, so it never sees a later order while an earlier-numbered one is still
   * uncommitted: arrival order (seq) is exactly the order of decision.
   */
  insertQueued: async (db: Db, orders: (NewOrder & { partition: number })[]): Promise<Set<string>> => {
    const partitions = [...new Set(orders.map((order) => order.partition))];
    const rows = await runPrepared<{ id: string }>(
      db,
      'orders-insert-queued',
      `WITH arrival AS (
         SELECT pg_advisory_xact_lock_shared($1, partition) FROM unnest($2::int[]) AS partition ORDER BY partition
       )
       INSERT INTO orders (id, showing_id, status, seat_ids, customer_email, customer_name, currency, idempotency_key, request_hash,
                           payment_token, created_at)
       SELECT o.id, o.showing_id, 'queued', o.seat_ids, o.customer_email, o.customer_name, o.currency, o.idempotency_key, o.request_hash,
              o.payment_token, o.created_at
       FROM ROWS FROM (jsonb_to_recordset($3::jsonb) AS (id uuid, showing_id bigint, seat_ids bigint[], customer_email text,
              customer_name text, currency text, idempotency_key text, request_hash text, payment_token text, created_at timestamptz))
            WITH ORDINALITY AS o(id, showing_id, seat_ids, customer_email, customer_name, currency, idempotency_key, request_hash,
                                 payment_token, created_at, position)
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
            customer_email: order.customerEmail,
            customer_name: order.customerName,
            currency: order.currency,
            idempotency_key: order.idempotencyKey,
            request_hash: order.requestHash,
            payment_token: order.paymentToken,
            created_at: order.createdAt,
          })),
        ),
        partitions.length,
      ],
    );
    return new Set(rows.map((row) => row.id));
  },

  byIdempotencyKey: (db: Db, key: string): Promise<{ id: string; requestHash: string } | undefined> =>
    db('orders').where({ idempotency_key: key }).first('id', 'request_hash as requestHash'),

  /** Orders with the seats they asked for (row, number, and the price of the ticket when there is one). */
  withSeats: async (db: Db, ids: string[]): Promise<{ order: OrderRow; seats: OrderSeatRow[] }[]> => {
    if (ids.length === 0) return [];
    const [orders, seats] = await Promise.all([
      db('orders').select(orderColumns).whereIn('id', ids) as Promise<OrderRow[]>,
      db
        .select('o.id as orderId', 's.id as seatId', 'r.label as row', 's.number', 't.price', 't.id as ticketId', 't.status as ticketStatus')
        .from({ o: 'orders' })
        .joinRaw('CROSS JOIN LATERAL unnest(o.seat_ids) WITH ORDINALITY AS wanted(seat_id, position)')
        .join({ s: 'seats' }, 's.id', 'wanted.seat_id')
        .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
        .leftJoin({ t: 'tickets' }, (join) => join.on('t.order_id', 'o.id').andOn('t.seat_id', 's.id'))
        .whereIn('o.id', ids)
        .orderBy(['o.id', 'wanted.position']) as Promise<(OrderSeatRow & { orderId: string })[]>,
    ]);
    const seatsByOrder = new Map<string, OrderSeatRow[]>();
    for (const { orderId, ...seat } of seats) {
      const list = seatsByOrder.get(orderId) ?? [];
      list.push(seat);
      seatsByOrder.set(orderId, list);
    }
    return orders.map((order) => ({ order, seats: seatsByOrder.get(order.id) ?? [] }));
  },

  // Allocation: the only writer of held tickets, one partition at a time.

  /**
   * Waits for the partition's inserts and allocation under way and holds off new ones until this
   * transaction ends: what the transaction then reads of the partition's queue stays true.
   */
  lockArrivals: async (trx: Db, partition: number): Promise<void> => {
    await runPrepared(trx, 'orders-arrival-lock', 'SELECT pg_advisory_xact_lock($1, $2)', [ARRIVAL_LOCK, partition]);
  },

  /**
   * The partition's oldest queued orders after `afterSeq`, locked. The bound lets the scan start past
   * the index entries of orders decided since the last vacuum, instead of walking them every time. FOR UPDATE (not SKIP LOCKED): if a second drainer
   * ever runs on the partition it waits here instead of deciding later orders first.
   */
  lockQueuedBatch: async (
    trx: Db,
    { partitions, partition, afterSeq, limit }: { partitions: number; partition: number; afterSeq: number; limit: number },
  ): Promise<QueuedOrder[]> => {
    await ordersRepository.lockArrivals(trx, partition);
    return runPrepared<QueuedOrder>(
      trx,
      'orders-lock-queued-batch',
      `SELECT o.id, o.seq, o.showing_id AS "showingId", o.seat_ids AS "seatIds", o.currency, o.created_at AS "createdAt",
              s.hall_id AS "hallId", s.starts_at AS "startsAt", s.cancelled_at AS "showingCancelledAt", s.prices,
              o.payment_token IS NOT NULL AS "paysByCard"
       FROM orders o JOIN showings s ON s.id = o.showing_id
       WHERE o.status = 'queued' AND o.seq > $1 AND o.showing_id % $2 = $3
       ORDER BY o.seq LIMIT $4
       FOR UPDATE OF o`,
      [afterSeq, partitions, partition, limit],
    );
  },

  showingsForSale: (db: Db, ids: number[]): Promise<SaleShowing[]> =>
    db('showings')
      .select('id', 'hall_id as hallId', 'starts_at as startsAt', 'cancelled_at as cancelledAt', 'prices', 'currency')
      .whereIn('id', ids),

  /** The requested seats, read inside the allocation transaction (never from another connection). */
  seatInfo: (trx: Db, seatIds: number[]): Promise<SeatInfo[]> =>
    runPrepared(
      trx,
      'seats-info',
      `SELECT s.id, s.hall_id AS "hallId", s.category, r.label AS row, s.number
       FROM seats s JOIN hall_rows r ON r.id = s.row_id WHERE s.id = ANY($1::bigint[])`,
      [seatIds],
    ),

  hallSeats: (db: Db, hallId: number): Promise<SeatInfo[]> =>
    db({ s: 'seats' })
      .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
      .select('s.id', 's.hall_id as hallId', 's.category', 'r.label as row', 's.number')
      .where('s.hall_id', hallId),

  /** Which of these (showing, seat) pairs have an active ticket right now. */
  takenSeats: async (db: Db, pairs: { showingId: number; seatId: number }[]): Promise<{ showingId: number; seatId: number }[]> => {
    if (pairs.length === 0) return [];
    return runPrepared(
      db,
      'tickets-taken-seats',
      `SELECT showing_id AS "showingId", seat_id AS "seatId" FROM tickets
       WHERE status IN ('held', 'sold') AND (showing_id, seat_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))`,
      [pairs.map((pair) => pair.showingId), pairs.map((pair) => pair.seatId)],
    );
  },

  /**
   * Writes a batch's outcome in one statement: the new tickets and every order's decision. Only
   * orders still queued change, so a replay is a no-op. Returns the stored decision times and ticket ids.
   */
  recordDecisions: async (trx: Db, decisions: Decision[], tickets: NewTicket[]): Promise<Map<string, StoredDecision>> => {
    if (decisions.length === 0) return new Map();
    const rows = await runPrepared<StoredDecision & { id: string }>(
      trx,
      'orders-record-decisions',
      `WITH new_tickets AS (
         INSERT INTO tickets (order_id, showing_id, hall_id, seat_id, price, status)
         SELECT order_id, showing_id, hall_id, seat_id, price, status
         FROM jsonb_to_recordset($1::jsonb) AS t(order_id uuid, showing_id bigint, hall_id bigint, seat_id bigint, price int, status text)
         RETURNING id, order_id, seat_id
       ), decided AS (
         UPDATE orders o
         SET status = d.status, total = d.total, hold_expires_at = d.hold_expires_at, rejected_seat_ids = d.rejected_seat_ids,
             failure_reason = d.failure_reason, payment_status = d.payment_status, decided_at = now()
         FROM jsonb_to_recordset($2::jsonb)
           AS d(id uuid, status text, total int, hold_expires_at timestamptz, rejected_seat_ids bigint[], failure_reason text,
                payment_status text)
         WHERE o.id = d.id AND o.status = 'queued'
         RETURNING o.id, o.decided_at, o.updated_at
       )
       SELECT d.id, d.decided_at AS "decidedAt", d.updated_at AS "updatedAt",
              coalesce((SELECT jsonb_object_agg(t.seat_id::text, t.id) FROM new_tickets t WHERE t.order_id = d.id), '{}') AS "ticketIds"
       FROM decided d`,
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
          })),
        ),
      ],
    );
    return new Map(rows.map((row) => [row.id, row]));
  },

  /**
   * Releases the seats of orders whose hold ran out, a bounded batch at a time; rows another
   * transaction is busy with are skipped and picked up on the next sweep. A hold whose payment is
   * under way is not expired here: the payment reconcile settles it (see reconcilePayments).
   */
  expireHolds: async (trx: Db, limit: number): Promise<{ orderIds: string[]; released: TicketChange[] }> => {
    const { rows } = await trx.raw(
      `WITH due AS (
         SELECT id FROM orders
         WHERE status = 'awaiting_payment' AND hold_expires_at < now() AND payment_status IS NULL
         ORDER BY hold_expires_at LIMIT ? FOR UPDATE SKIP LOCKED
       ), expired AS (
         UPDATE orders o SET status = 'expired', failure_reason = 'HOLD_EXPIRED'
         FROM due WHERE o.id = due.id RETURNING o.id
       ), released AS (
         UPDATE tickets t SET status = 'released'
         FROM expired WHERE t.order_id = expired.id AND t.status = 'held'
         RETURNING t.showing_id, t.seat_id
       )
       SELECT (SELECT coalesce(jsonb_agg(id), '[]') FROM expired) AS "orderIds",
              (SELECT coalesce(jsonb_agg(jsonb_build_object('showingId', showing_id, 'seatId', seat_id, 'status', 'released')), '[]') FROM released)
                AS released`,
      [limit],
    );
    return rows[0] as { orderIds: string[]; released: TicketChange[] };
  },

  /** Showings with orders queued longer than `olderThanMs`: their partition's wake-up was lost or is late. */
  showingsWithStaleQueuedOrders: async (db: Db, olderThanMs: number): Promise<number[]> =>
    (
      await db('orders')
        .distinct('showing_id')
        .where('status', 'queued')
        .whereRaw("created_at < now() - make_interval(secs => ?)", [olderThanMs / 1000])
    ).map((row: { showing_id: number }) => row.showing_id),
};
