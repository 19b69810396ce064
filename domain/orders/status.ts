/**
 * The order state machine. Every status change goes through one of these edges; the final
 * statuses never change again.
 *
 *   queued ──► awaiting_payment ──► confirmed ──► cancelled | refunded
 *     │              │  └──► payment_failed | expired
 *     │              └──► (CONFIRM_WITHOUT_PAYMENT) confirmed
 *     └──► rejected (a seat was taken, or the showing is no longer on sale)
 */
export const ORDER_STATUSES = [
  'queued',
  'awaiting_payment',
  'confirmed',
  'rejected',
  'expired',
  'payment_failed',
  'cancelled',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  queued: ['awaiting_payment', 'confirmed', 'rejected'],
  awaiting_payment: ['confirmed', 'payment_failed', 'expired', 'cancelled'],
  confirmed: ['cancelled', 'refunded'],
  rejected: [],
  expired: [],
  payment_failed: [],
  cancelled: [],
  refunded: [],
};
