import type { OrderRow, OrderSeatRow } from '../../db/repositories/orders.js';
import type { OrderStatus } from './status.js';

/** The order as buyers see it: GET /orders/:id, the waiting POST, and every pushed update. */
export type OrderView = {
  id: string;
  status: OrderStatus;
  showingId: number;
  seats: OrderSeatRow[];
  total: number | null;
  currency: string;
  holdExpiresAt: string | null;
  rejectedSeatIds: number[];
  /** Machine-readable reason for rejected, expired and failed orders (SEAT_TAKEN, HOLD_EXPIRED, ...). */
  reason: string | null;
  /** Where the payment stands: processing, retrying, provider_unavailable, paid, declined, unresolved, refund_pending, refunded, partially_refunded; null before it starts. */
  paymentStatus: string | null;
  refundedTotal: number;
  createdAt: string;
  decidedAt: string | null;
  updatedAt: string;
};

/** The order fields a view shows; a stored row, or what the intake or a batch already holds. */
export type OrderViewSource = Pick<
  OrderRow,
  | 'id'
  | 'status'
  | 'showingId'
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
>;

export function toOrderView(order: OrderViewSource, seats: OrderSeatRow[]): OrderView {
  return {
    id: order.id,
    status: order.status as OrderStatus,
    showingId: order.showingId,
    seats,
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
  };
}
