import type { Order, OrderSeat, OrderView } from '../model/orders.js';

/** The order fields a view shows; a stored order, or what the intake or a batch already holds. */
export type OrderViewSource = Pick<
  Order,
  | 'id'
  | 'status'
  | 'showingId'
  | 'best'
  | 'total'
  | 'currency'
  | 'holdExpiresAt'
  | 'rejectedSeatIds'
  | 'failureReason'
  | 'paymentStatus'
  | 'refundedTotal'
  | 'createdAt'
  | 'decidedAt'
  | 'updatedAt'
  | 'version'
>;

/** The order as buyers see it: GET /orders/:id, the waiting POST, and every pushed update. */
export function toOrderView(order: OrderViewSource, seats: OrderSeat[]): OrderView {
  return {
    id: order.id,
    status: order.status,
    showingId: order.showingId,
    seats,
    best: order.best,
    total: order.total,
    currency: order.currency,
    holdExpiresAt: order.holdExpiresAt?.toISOString() ?? null,
    rejectedSeatIds: order.rejectedSeatIds ?? [],
    reason: order.failureReason,
    paymentStatus: order.paymentStatus,
    refundedTotal: order.refundedTotal,
    createdAt: order.createdAt.toISOString(),
    decidedAt: order.decidedAt?.toISOString() ?? null,
    updatedAt: order.updatedAt.toISOString(),
    version: order.version,
  };
}
