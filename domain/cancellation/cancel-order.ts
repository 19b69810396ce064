import { ordersRepository } from '../../db/repositories/orders.js';
import { ticketsRepository } from '../../db/repositories/tickets.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import type { OrderStatus } from '../model/order-states.js';
import type { OrderView } from '../model/orders.js';
import { checkOrderAccess, orderNotFound } from '../orders/get-order.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';
import { requestRefunds } from '../payments/payment-jobs.js';
import { paymentStatusAfterCancel, recordTicketRefund } from './refund-tickets.js';

// A queued order too: the allocation decides only orders still queued, so it is simply skipped.
const CANCELLABLE: OrderStatus[] = ['queued', 'awaiting_payment', 'confirmed'];

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
    const order = await ordersRepository.payable(trx, orderId, { lock: true });
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
    const active = await ticketsRepository.active(trx, [orderId]);
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
    const seats = await ticketsRepository.cancel(
      trx,
      chosen.map((ticket) => ticket.id),
    );
    const refunds = order.status === 'confirmed' ? await recordTicketRefund(trx, order, chosen) : [];
    await ordersRepository.change(trx, orderId, {
      ...(whole ? { status: 'cancelled', failureReason: 'CANCELLED_BY_BUYER', endHold: true as const } : {}),
      paymentStatus: paymentStatusAfterCancel(order.status, refunds),
    });
    return { refundIds: refunds, seats };
  });
  const [view] = await publishOrderUpdates(deps, [orderId], seats);
  await requestRefunds(deps, refundIds);
  return view!;
}
