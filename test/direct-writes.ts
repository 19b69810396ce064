import type { Knex } from 'knex';
import type { DecidedStatus } from '../domain/model/order-states.js';

/**
 * Rows written straight into the database, as a script that ignores the API would write them. Even
 * these follow the state machines (the suite fails on any status written outside them): an order
 * is inserted `queued` and then takes one edge; a released ticket is held first.
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
  }));
  const inserted: { id: number }[] = await db('tickets').insert(rows).returning('id');
  const released = inserted.filter((_row, index) => tickets[index]!.status === 'released').map((row) => row.id);
  if (released.length > 0) await db('tickets').whereIn('id', released).update({ status: 'released' });
}
