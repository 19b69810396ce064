/**
 * The order state machine. Every status change goes through one of these edges.
 *
 *   queued ──► awaiting_payment ──► confirmed ──► cancelled (all tickets; paid ones refunded)
 *     │              ├──► payment_failed (declined; or unresolved past hold + reconcile window) ──► refunded
 *     │              ├──► expired (no payment had started when the hold ran out)
 *     │              └──► cancelled (by the buyer, or the showing was cancelled)
 *     ├──► cancelled (by the buyer, before the decision)
 *     ├──► confirmed (CONFIRM_WITHOUT_PAYMENT)
 *     └──► rejected (a seat was taken, or the showing is no longer on sale)
 *
 * `→ refunded`: a charge that went through after the seats were released is paid back. A
 * cancelled order stays cancelled; its refund shows in `paymentStatus`, as does a partial
 * cancellation of a confirmed order.
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
