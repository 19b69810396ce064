import type { Knex } from 'knex';
import type { DecidedStatus } from '../domain/model/order-states.js';

/**
 * Rows written straight into the database, as a script that ignores the API would write them. Even
 * these follow the rules every writer of the system follows: the state machines (the suite fails on
 * any status written outside them: an order is inserted `queued` and then takes one edge; a released
 * ticket is held first), and the seat-map version and taken seats of every showing whose tickets
 * change move in the same transaction (live seat maps and the read caches know a showing by them).
 */
export async function insertOrderRow(
  db: Knex,
  order: {
    showingId: number;
    seatIds: number[];
    status: DecidedStatus;
    currency?: string;
    total?: number;
    email?: string;
  },
): Promise<string> {
  const [{ id }] = await db('orders')
    .insert({
      showing_id: order.showingId,
      status: 'queued',
      seat_ids: order.seatIds,
      customer_email: order.email ?? 'script@example.com',
      currency: order.currency ?? 'RUB',
    })
    .returning('id');
  await db('orders')
    .where({ id })
    .update({ status: order.status, total: order.total ?? null, decided_at: db.fn.now() });
  return id as string;
}

export async function insertTicketRows(
  db: Knex,
  tickets: {
    orderId: string;
    showingId: number;
    hallId: number;
    seatId: number;
    price: number;
    status: 'held' | 'sold' | 'released';
  }[],
): Promise<void> {
  const rows = tickets.map((ticket) => ({
    order_id: ticket.orderId,
    showing_id: ticket.showingId,
    hall_id: ticket.hallId,
    seat_id: ticket.seatId,
    price: ticket.price,
    status: ticket.status === 'released' ? 'held' : ticket.status,
    sold_at: ticket.status === 'sold' ? new Date() : null,
  }));
  await db.transaction(async (trx) => {
    const inserted: { id: number }[] = await trx('tickets').insert(rows).returning('id');
    const released = inserted.filter((_row, index) => tickets[index]!.status === 'released').map((row) => row.id);
    if (released.length > 0) await trx('tickets').whereIn('id', released).update({ status: 'released' });
    // As every writer of tickets does: one version bump per showing, and its taken seats moved.
    const taken = new Map<number, number>();
    for (const ticket of tickets) {
      taken.set(ticket.showingId, (taken.get(ticket.showingId) ?? 0) + (ticket.status === 'released' ? 0 : 1));
    }
    for (const [showingId, count] of taken) {
      await trx('showings')
        .where('id', showingId)
        .update({ seat_version: trx.raw('seat_version + 1'), taken_seats: trx.raw('taken_seats + ?', [count]) });
    }
  });
}

/** Releases the order's held tickets, as a script would, moving the showings' versions and taken seats. */
export async function releaseTicketRows(db: Knex, orderId: string): Promise<void> {
  await db.transaction(async (trx) => {
    const released: { showingId: number }[] = await trx('tickets')
      .where({ order_id: orderId, status: 'held' })
      .update({ status: 'released' })
      .returning('showing_id as showingId');
    for (const showingId of new Set(released.map((ticket) => ticket.showingId))) {
      const freed = released.filter((ticket) => ticket.showingId === showingId).length;
      await trx('showings')
        .where('id', showingId)
        .update({ seat_version: trx.raw('seat_version + 1'), taken_seats: trx.raw('taken_seats - ?', [freed]) });
    }
  });
}
