import type { Db } from '../connection.js';

export type NewOrder = {
  id: string;
  showingId: number;
  seatIds: number[];
  customerEmail: string;
  customerName: string | null;
  currency: string;
  idempotencyKey: string;
  requestHash: string;
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
  decidedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

export type OrderSeatRow = { seatId: number; row: string; number: number; price: number | null };

export type QueuedOrder = { id: string; seq: number; showingId: number; seatIds: number[]; currency: string; createdAt: Date };

export type AllocationShowing = {
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
};

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
  'decided_at as decidedAt',
  'created_at as createdAt',
  'updated_at as updatedAt',
];

const seatInfoQuery = (db: Db) =>
  db({ s: 'seats' }).join({ r: 'hall_rows' }, 'r.id', 's.row_id').select('s.id', 's.hall_id as hallId', 's.category', 'r.label as row', 's.number');

/** Advisory lock class of "orders arriving in partition N" (the object id is the partition). */
const ARRIVAL_LOCK = 0x6f726472; // 'ordr'

export const ACTIVE_TICKET_STATUSES = ['held', 'sold'];

export const ordersRepository = {
  /**
   * One multi-row INSERT for orders of one allocation partition; an order whose Idempotency-Key
   * exists already is skipped (also the second of two with one key in the same batch). Returns the
   * ids inserted. Rows get their arrival sequence in list order.
   *
   * The shared arrival lock of the partition is held until commit: an allocation takes it
   * exclusively before reading the queue, so it never sees a later order while an earlier-numbered
   * one is still uncommitted, and arrival order (seq) is exactly the order of decision.
   */
  insertQueued: (db: Db, partition: number, orders: NewOrder[]): Promise<Set<string>> =>
    db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock_shared(?, ?)', [ARRIVAL_LOCK, partition]);
      const rows: { id: string }[] = await trx('orders')
        .insert(
          orders.map((order) => ({
            id: order.id,
            showing_id: order.showingId,
            status: 'queued',
            seat_ids: order.seatIds,
            customer_email: order.customerEmail,
            customer_name: order.customerName,
            currency: order.currency,
            idempotency_key: order.idempotencyKey,
            request_hash: order.requestHash,
            created_at: order.createdAt,
          })),
        )
        .onConflict('idempotency_key')
        .ignore()
        .returning('id');
      return new Set(rows.map((row) => row.id));
    }),

  byIdempotencyKey: (db: Db, key: string): Promise<{ id: string; requestHash: string } | undefined> =>
    db('orders').where({ idempotency_key: key }).first('id', 'request_hash as requestHash'),

  /** Orders with the seats they asked for (row, number, and the price of the ticket when there is one). */
  withSeats: async (db: Db, ids: string[]): Promise<{ order: OrderRow; seats: OrderSeatRow[] }[]> => {
    if (ids.length === 0) return [];
    const [orders, seats] = await Promise.all([
      db('orders').select(orderColumns).whereIn('id', ids) as Promise<OrderRow[]>,
      db
        .select('o.id as orderId', 's.id as seatId', 'r.label as row', 's.number', 't.price')
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
   * The partition's oldest queued orders, locked. FOR UPDATE (not SKIP LOCKED): if a second drainer
   * ever runs on the partition it waits here instead of deciding later orders first.
   */
  lockQueuedBatch: async (trx: Db, { partitions, partition, limit }: { partitions: number; partition: number; limit: number }): Promise<QueuedOrder[]> => {
    // Waits for the partition's inserts under way and holds off new ones until this transaction ends.
    await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [ARRIVAL_LOCK, partition]);
    return trx('orders')
      .select('id', 'seq', 'showing_id as showingId', 'seat_ids as seatIds', 'currency', 'created_at as createdAt')
      .where('status', 'queued')
      .whereRaw('showing_id % ? = ?', [partitions, partition])
      .orderBy('seq')
      .limit(limit)
      .forUpdate();
  },

  showingsForAllocation: (db: Db, ids: number[]): Promise<AllocationShowing[]> =>
    db('showings')
      .select('id', 'hall_id as hallId', 'starts_at as startsAt', 'cancelled_at as cancelledAt', 'prices', 'currency')
      .whereIn('id', ids),

  seatInfo: (db: Db, seatIds: number[]): Promise<SeatInfo[]> => seatInfoQuery(db).whereIn('s.id', seatIds),

  hallSeats: (db: Db, hallId: number): Promise<SeatInfo[]> => seatInfoQuery(db).where('s.hall_id', hallId),

  /** Which of these (showing, seat) pairs have an active ticket right now. */
  takenSeats: async (db: Db, pairs: { showingId: number; seatId: number }[]): Promise<{ showingId: number; seatId: number }[]> => {
    if (pairs.length === 0) return [];
    return db('tickets')
      .select('showing_id as showingId', 'seat_id as seatId')
      .whereIn('status', ACTIVE_TICKET_STATUSES)
      .whereRaw('(showing_id, seat_id) IN (SELECT * FROM unnest(?::bigint[], ?::bigint[]))', [
        pairs.map((pair) => pair.showingId),
        pairs.map((pair) => pair.seatId),
      ]);
  },

  insertTickets: async (trx: Db, tickets: NewTicket[]): Promise<void> => {
    if (tickets.length === 0) return;
    await trx.raw(
      `INSERT INTO tickets (order_id, showing_id, hall_id, seat_id, price, status)
       SELECT order_id, showing_id, hall_id, seat_id, price, status
       FROM jsonb_to_recordset(?::jsonb) AS t(order_id uuid, showing_id bigint, hall_id bigint, seat_id bigint, price int, status text)`,
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
      ],
    );
  },

  /** Applies many decisions in one UPDATE; only orders still queued change, so a replay is a no-op. */
  recordDecisions: async (trx: Db, decisions: Decision[]): Promise<void> => {
    if (decisions.length === 0) return;
    await trx.raw(
      `UPDATE orders o
       SET status = d.status, total = d.total, hold_expires_at = d.hold_expires_at,
           rejected_seat_ids = d.rejected_seat_ids, failure_reason = d.failure_reason, decided_at = now()
       FROM jsonb_to_recordset(?::jsonb)
         AS d(id uuid, status text, total int, hold_expires_at timestamptz, rejected_seat_ids bigint[], failure_reason text)
       WHERE o.id = d.id AND o.status = 'queued'`,
      [
        JSON.stringify(
          decisions.map((decision) => ({
            id: decision.id,
            status: decision.status,
            total: decision.total,
            hold_expires_at: decision.holdExpiresAt,
            rejected_seat_ids: decision.rejectedSeatIds,
            failure_reason: decision.failureReason,
          })),
        ),
      ],
    );
  },

  /**
   * Releases the seats of orders whose hold ran out, a bounded batch at a time; rows another
   * transaction is busy with are skipped and picked up on the next sweep.
   */
  expireHolds: async (db: Db, limit: number): Promise<string[]> => {
    const { rows } = await db.raw(
      `WITH due AS (
         SELECT id FROM orders
         WHERE status = 'awaiting_payment' AND hold_expires_at < now()
         ORDER BY hold_expires_at LIMIT ? FOR UPDATE SKIP LOCKED
       ), expired AS (
         UPDATE orders o SET status = 'expired', failure_reason = 'HOLD_EXPIRED'
         FROM due WHERE o.id = due.id RETURNING o.id
       ), released AS (
         UPDATE tickets t SET status = 'released'
         FROM expired WHERE t.order_id = expired.id AND t.status = 'held'
       )
       SELECT id FROM expired`,
      [limit],
    );
    return (rows as { id: string }[]).map((row) => row.id);
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
