import { cancellationsRepository } from '../../db/repositories/cancellations.js';
import { ordersRepository } from '../../db/repositories/orders.js';
import { paymentsRepository } from '../../db/repositories/payments.js';
import { showingsRepository } from '../../db/repositories/showings.js';
import type { Db } from '../../db/connection.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { partitionOf } from '../queues.js';
import { requestRefunds } from '../payments/saga.js';
import { checkOrderAccess, orderNotFound, publishOrderUpdates } from './get-order.js';
import type { OrderView } from './view.js';

// A queued order too: the allocation decides only orders still queued, so it is simply skipped.
const CANCELLABLE = ['queued', 'awaiting_payment', 'confirmed'];

/**
 * Pays back what the cancelled tickets of a paid order cost (nothing for free tickets); returns the
 * refund ids. Counting tickets, not the order's refunded total, keeps refunds still under way from
 * being paid twice.
 */
async function refundTickets(
  trx: Db,
  order: { id: string; currency: string },
  tickets: { id: number; price: number }[],
  key?: string,
) {
  const amount = tickets.reduce((sum, ticket) => sum + ticket.price, 0);
  if (amount === 0) return [];
  const ticketIds = tickets.map((ticket) => ticket.id).sort((a, b) => a - b);
  const refundId = await paymentsRepository.recordRefund(trx, {
    orderId: order.id,
    // A ticket is cancelled once, so its ids name the refund: a retried cancellation finds it again.
    idempotencyKey: `refund:${order.id}:${key ?? ticketIds.join(',')}`,
    amount,
    currency: order.currency,
    ticketIds,
  });
  return [refundId];
}

/** After a cancellation: a refund under way, none to wait for on an unpaid order, else as it was (paid). */
const paymentStatusAfterCancel = (status: string, refundIds: string[]) =>
  refundIds.length > 0 ? 'refund_pending' : status === 'confirmed' ? undefined : null;

/**
 * The buyer cancels the whole order or some of its tickets (soft delete: the seats are free for the
 * next buyer at once). A paid order gets the cancelled tickets' price back through the same
 * idempotent refund path; an unpaid one is cancelled whole, and a charge still under way for it is
 * refunded when it lands. Closed CANCELLATION_CUTOFF_MINUTES before the showing starts.
 */
export async function cancelOrder(
  deps: Deps,
  orderId: string,
  token: string | undefined,
  ticketIds?: number[],
): Promise<OrderView> {
  checkOrderAccess(deps, orderId, token);
  const { refundIds, seats } = await deps.db.transaction(async (trx) => {
    const order = await paymentsRepository.payableOrder(trx, orderId, { lock: true });
    if (!order) throw orderNotFound(orderId);
    if (!CANCELLABLE.includes(order.status)) {
      throw new DomainError('ORDER_NOT_CANCELLABLE', `An order that is ${order.status} cannot be cancelled`, {
        status: order.status,
      });
    }
    const cutoff = new Date(order.startsAt.getTime() - deps.config.CANCELLATION_CUTOFF_MINUTES * 60_000);
    if (Date.now() >= cutoff.getTime()) {
      throw new DomainError('CANCELLATION_CLOSED', `Cancellation closed at ${cutoff.toISOString()}`, {
        closedAt: cutoff.toISOString(),
      });
    }
    const active = await cancellationsRepository.activeTickets(trx, [orderId]);
    const chosen = ticketIds ? active.filter((ticket) => ticketIds.includes(ticket.id)) : active;
    const foreign = (ticketIds ?? []).filter((id) => !active.some((ticket) => ticket.id === id));
    if (foreign.length > 0) {
      throw new DomainError('TICKET_NOT_IN_ORDER', 'Some tickets are not active tickets of this order', {
        ticketIds: foreign,
      });
    }
    const whole = chosen.length === active.length;
    if (!whole && order.status !== 'confirmed') {
      throw new DomainError('ORDER_NOT_CANCELLABLE', 'An order not paid yet is cancelled whole', {
        status: order.status,
      });
    }
    const seats = await cancellationsRepository.cancelTickets(
      trx,
      chosen.map((ticket) => ticket.id),
    );
    const refunds = order.status === 'confirmed' ? await refundTickets(trx, order, chosen) : [];
    await paymentsRepository.updateOrder(trx, orderId, {
      ...(whole ? { status: 'cancelled', failureReason: 'CANCELLED_BY_BUYER', endHold: true as const } : {}),
      paymentStatus: paymentStatusAfterCancel(order.status, refunds),
    });
    return { refundIds: refunds, seats };
  });
  const [view] = await publishOrderUpdates(deps, [orderId], seats);
  await requestRefunds(deps, refundIds);
  return view!;
}

export type CancelledShowing = { showingId: number; cancelledOrders: number; refundsRequested: number };

/** The cinema cancels a showing: it leaves sale, and every order holding or owning seats is cancelled and refunded. */
export async function cancelShowing(deps: Deps, showingId: number): Promise<CancelledShowing> {
  const { orderIds, refundIds, seats } = await deps.db.transaction(async (trx) => {
    // An allocation batch under way for the showing finishes first; later ones see it cancelled.
    await ordersRepository.lockArrivals(trx, partitionOf(showingId, deps.config.ALLOCATION_PARTITIONS));
    // Orders before the showing row: the payment saga locks an order, then its showing (seat version).
    const orders = await cancellationsRepository.lockActiveOrdersOfShowing(trx, showingId);
    const showing = await showingsRepository.lockForUpdate(trx, showingId);
    if (!showing) throw new DomainError('SHOWING_NOT_FOUND', `Showing ${showingId} does not exist`);
    if (showing.cancelledAt)
      throw new DomainError(
        'SHOWING_ALREADY_CANCELLED',
        `Showing ${showingId} was cancelled at ${showing.cancelledAt.toISOString()}`,
      );
    await cancellationsRepository.markShowingCancelled(trx, showingId);
    const tickets = await cancellationsRepository.activeTickets(
      trx,
      orders.map((order) => order.id),
    );
    const seats = await cancellationsRepository.cancelTickets(
      trx,
      tickets.map((ticket) => ticket.id),
    );
    const refunds: string[] = [];
    for (const order of orders) {
      const orderRefunds =
        order.status === 'confirmed'
          ? await refundTickets(
              trx,
              order,
              tickets.filter((ticket) => ticket.orderId === order.id),
              'showing-cancelled',
            )
          : [];
      refunds.push(...orderRefunds);
      await paymentsRepository.updateOrder(trx, order.id, {
        status: 'cancelled',
        failureReason: 'SHOWING_CANCELLED',
        endHold: true,
        paymentStatus: paymentStatusAfterCancel(order.status, orderRefunds),
      });
    }
    return { orderIds: orders.map((order) => order.id), refundIds: refunds, seats };
  });
  await publishOrderUpdates(deps, orderIds, seats);
  await requestRefunds(deps, refundIds);
  return { showingId, cancelledOrders: orderIds.length, refundsRequested: refundIds.length };
}
