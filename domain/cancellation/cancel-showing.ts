import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import { retryingDeadlock } from '../../db/violations.js';
import { ordersRepository } from '../../db/repositories/orders.js';
import { showingsRepository } from '../../db/repositories/showings.js';
import { ticketsRepository } from '../../db/repositories/tickets.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { partitionOf } from '../model/partitions.js';
import type { Actor } from '../model/actors.js';
import { asActor, ensureManages } from '../operators/acting.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';
import { requestRefunds } from '../payments/payment-jobs.js';
import { paymentStatusAfterCancel, recordTicketRefund } from './refund-tickets.js';

export type CancelledShowing = { showingId: number; cancelledOrders: number; refundsRequested: number };

/** The cinema cancels a showing: it leaves sale, and every order holding or owning seats is cancelled and refunded. */
export async function cancelShowing(deps: Deps, actor: Actor, showingId: number): Promise<CancelledShowing> {
  // A delete of its hall or film at the same moment can deadlock with the row's two updates (the
  // second re-checks its keys); PostgreSQL fails one of the two, and this side simply runs again.
  const { orderIds, refundIds, seats } = await retryingDeadlock(() =>
    asActor(deps, actor, async ({ db: trx }) => {
      await ensureManages(trx, actor, { showingId });
      // An allocation batch under way for the showing finishes first; later ones see it cancelled.
      await orderQueueRepository.lockArrivals(trx, partitionOf(showingId, deps.config.ALLOCATION_PARTITIONS));
      // Orders before the showing row: the payment saga locks an order, then its showing (seat version).
      const orders = await ordersRepository.lockActiveOfShowing(trx, showingId);
      const showing = await showingsRepository.lockForUpdate(trx, showingId);
      if (!showing) throw new DomainError('SHOWING_NOT_FOUND', `Showing ${showingId} does not exist`);
      if (showing.cancelledAt)
        throw new DomainError(
          'SHOWING_ALREADY_CANCELLED',
          `Showing ${showingId} was cancelled at ${showing.cancelledAt.toISOString()}`,
        );
      await showingsRepository.markCancelled(trx, showingId);
      const tickets = await ticketsRepository.active(
        trx,
        orders.map((order) => order.id),
      );
      const seats = await ticketsRepository.cancel(
        trx,
        tickets.map((ticket) => ticket.id),
      );
      const refunds: string[] = [];
      for (const order of orders) {
        const orderRefunds =
          order.status === 'confirmed'
            ? await recordTicketRefund(
                trx,
                order,
                tickets.filter((ticket) => ticket.orderId === order.id),
                'showing-cancelled',
              )
            : [];
        refunds.push(...orderRefunds);
        await ordersRepository.change(trx, order.id, {
          status: 'cancelled',
          failureReason: 'SHOWING_CANCELLED',
          endHold: true,
          paymentStatus: paymentStatusAfterCancel(order.status, orderRefunds),
        });
      }
      return { orderIds: orders.map((order) => order.id), refundIds: refunds, seats };
    }),
  );
  await publishOrderUpdates(deps, orderIds, seats);
  await requestRefunds(deps, refundIds);
  return { showingId, cancelledOrders: orderIds.length, refundsRequested: refundIds.length };
}
