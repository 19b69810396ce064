import type { Db } from '../../db/connection.js';
import { paymentsRepository } from '../../db/repositories/payments.js';
import type { OrderStatus } from '../model/order-states.js';
import type { PaymentStatus } from '../model/payments.js';

/**
 * Records the refund of what the cancelled tickets of a paid order cost (nothing for free tickets);
 * returns the refund ids, whose jobs the caller sends after its commit. Counting tickets, not the
 * order's refunded total, keeps refunds still under way from being paid twice.
 */
export async function recordTicketRefund(
  trx: Db,
  order: { id: string; currency: string },
  tickets: { id: number; price: number }[],
  key?: string,
): Promise<string[]> {
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
export const paymentStatusAfterCancel = (status: OrderStatus, refundIds: string[]): PaymentStatus | null | undefined =>
  refundIds.length > 0 ? 'refund_pending' : status === 'confirmed' ? undefined : null;
