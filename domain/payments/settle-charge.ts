import { ordersRepository, type OrderChange } from '../../db/repositories/orders.js';
import { paymentsRepository } from '../../db/repositories/payments.js';
import { ticketsRepository } from '../../db/repositories/tickets.js';
import type { Deps } from '../context.js';
import type { KnownChargeOutcome } from '../model/payments.js';
import type { SeatDelta, TicketStatus } from '../model/tickets.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';
import { chargeKey, requestRefunds } from './payment-jobs.js';

/** The key of the refund that pays a whole charge back: one per order. */
const FULL_REFUND = 'order';

/**
 * Applies a known outcome of the order's charge; running it again changes nothing.
 * - succeeded: tickets sold and order confirmed, in one transaction;
 * - declined: seats released, order payment_failed with the decline code;
 * - succeeded for an order that lost its seats meanwhile (cancelled, given up): paid back in full.
 */
export async function settleCharge(deps: Deps, orderId: string, outcome: KnownChargeOutcome): Promise<void> {
  const changed = await deps.db.transaction(
    async (trx): Promise<{ refundIds: string[]; seats: SeatDelta[] } | null> => {
      const order = await ordersRepository.payable(trx, orderId, { lock: true });
      // null: the order as buyers see it did not change, nothing to publish.
      if (!order) return null;
      const idempotencyKey = chargeKey(orderId);
      if (outcome.kind === 'declined') {
        await paymentsRepository.settlePayment(trx, idempotencyKey, {
          status: 'failed',
          providerReference: outcome.chargeId,
          failureReason: outcome.declineCode,
        });
        if (order.status !== 'awaiting_payment') return null;
        const seats = await settleHeldOrder(trx, orderId, 'released', {
          status: 'payment_failed',
          failureReason: outcome.declineCode.toUpperCase(),
          paymentStatus: 'declined',
          endHold: true,
        });
        return { refundIds: [], seats };
      }
      const before = await paymentsRepository.settlePayment(trx, idempotencyKey, {
        status: 'succeeded',
        providerReference: outcome.chargeId,
      });
      if (order.status === 'awaiting_payment') {
        const seats = await settleHeldOrder(trx, orderId, 'sold', {
          status: 'confirmed',
          paymentStatus: 'paid',
          endHold: true,
        });
        return { refundIds: [], seats };
      }
      if (before === 'succeeded' || order.status === 'confirmed') return null;
      // Paid, but the seats are gone (cancelled, or released when the payment stayed unresolved): pay it all back.
      const amount = (order.total ?? 0) - order.refundedTotal;
      if (amount <= 0) return null;
      const refundId = await paymentsRepository.recordRefund(trx, {
        orderId,
        idempotencyKey: `refund:${orderId}:${FULL_REFUND}`,
        amount,
        currency: order.currency,
        ticketIds: null,
      });
      await ordersRepository.change(trx, orderId, {
        ...(order.status === 'cancelled' ? {} : { status: 'refunded', failureReason: 'PAID_AFTER_SEATS_RELEASED' }),
        paymentStatus: 'refund_pending',
      });
      return { refundIds: [refundId], seats: [] };
    },
  );
  if (!changed) return;
  await publishOrderUpdates(deps, [orderId], changed.seats);
  await requestRefunds(deps, changed.refundIds);
}

/** Sells or releases the seats of an order still waiting for its payment; nothing once it moved on. */
export async function settleAwaitingOrder(
  deps: Deps,
  orderId: string,
  ticketStatus: Extract<TicketStatus, 'sold' | 'released'>,
  change: OrderChange,
): Promise<void> {
  const seats = await deps.db.transaction(async (trx) => {
    const order = await ordersRepository.payable(trx, orderId, { lock: true });
    if (order?.status !== 'awaiting_payment') return null;
    return settleHeldOrder(trx, orderId, ticketStatus, change);
  });
  if (seats) await publishOrderUpdates(deps, [orderId], seats);
}

/** The held tickets go on with the payment's outcome, and the order with them; returns the seat deltas. */
async function settleHeldOrder(
  trx: Deps['db'],
  orderId: string,
  ticketStatus: Extract<TicketStatus, 'sold' | 'released'>,
  change: OrderChange,
): Promise<SeatDelta[]> {
  const seats = await ticketsRepository.settleHeld(trx, orderId, ticketStatus);
  await ordersRepository.change(trx, orderId, change);
  return seats;
}
